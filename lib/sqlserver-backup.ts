// SQL Server backups for the `backup` and `restore` commands, as plain functions over a SqlClient (run against
// a real server, or replayed from a recording): full and log backups to S3-compatible object storage (SQL
// Server 2022's S3 connector) or to a file on the server's host, the position msdb records for a backup, and
// a restore under a new name, to a point in time with the log backups that follow the full one.
//
// Quoting: every identifier goes through `bracketed` (lib/sqlserver.ts) and every string literal through
// `unicodeLiteral` below (lib/sqlserver.ts has no literal helper), so each statement is plain text, compared
// exactly by the tests. BACKUP and RESTORE also take variables, but a restore's MOVE list is as long as the
// backup's file list, and plain text is what a reader and a recording can check. The one value never put
// into a statement's text is the S3 secret: it travels as a parameter (see ensureS3Credential).
//
// COPY_ONLY, by default, on full and log backups alike, so that a backup taken by this project never changes
// the backup sequence of the jobs the runbooks run on the same database:
// - A regular full backup resets the differential base: the runbooks' next differential backups would be
//   based on ours, which their restore does not have. "A copy-only backup cannot serve as a differential base
//   or differential backup and does not affect the differential base. Restoring a copy-only full backup is the
//   same as restoring any other full backup." (Copy-Only Backups, https://learn.microsoft.com/sql/relational-
//   databases/backup-restore/copy-only-backups-sql-server). No full backup, copy-only or not, breaks the log
//   chain: log backups restore on top of either (https://dba.stackexchange.com/questions/37065, a script
//   restoring a copy-only full backup and the log backup after it).
// - A regular log backup moves the log archive point: the runbooks' next log backup starts where ours ended,
//   and their chain then needs our file. "A copy-only log backup preserves the existing log archive point and,
//   therefore, does not affect the sequencing of regular log backups." (same page). The price: a copy-only log
//   backup holds the log since the last regular log backup, so it follows our full backup only while no
//   regular log backup runs between the two (RESTORE LOG then fails: the log is too recent to apply).
// - A copy-only full backup does not start a log chain: in the FULL recovery model, until a regular full
//   backup has been taken, BACKUP LOG fails ("no current database backup"; sys.database_recovery_status
//   .last_log_backup_lsn is NULL, https://learn.microsoft.com/sql/relational-databases/system-catalog-views/
//   sys-database-recovery-status-transact-sql; shown in https://blog.coeo.com/understanding-copy_only-backups).
// So `copyOnly: false` is for a database whose backups this project owns: one regular full backup starts the
// chain, regular log backups continue it (and let the log be truncated).
import { z } from "zod";
import { redact } from "./redact";
import { bracketed, sqlServerName, unicodeLiteral, type SqlClient } from "./sqlserver";

// --- inputs ------------------------------------------------------------------------------------------------

/** SQL Server's limit for a backup device name, a path or a URL (the URL's s3:// included). */
const MAX_DEVICE = 259;
const CONTROL = /[\u0000-\u001f\u007f]/;
const ABSOLUTE = /^(\/|[A-Za-z]:[\\/]|\\\\[^\\])/;

const absolute = (what: string) =>
  z
    .string(`must be an absolute ${what} on the SQL Server's host`)
    .refine(
      (p) => ABSOLUTE.test(p),
      `must be an absolute ${what} on the SQL Server's host (/var/opt/mssql/backup/..., C:\\Backups\\...)`,
    )
    .refine((p) => !CONTROL.test(p), "must not contain control characters");

/** A backup file on the server's host. */
const backupPath = absolute("path").refine(
  (p) => p.length <= MAX_DEVICE,
  `must be at most ${MAX_DEVICE} characters (SQL Server's limit for a backup device)`,
);
const directory = absolute("directory");

/** s3://<endpoint>[:port][/path], the endpoint a host name or an IP address. */
const S3_URL = /^s3:\/\/([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?(\/[^\s?#]*)?$/;
const S3_SHAPE = "s3://<endpoint>[:port]/<bucket>/<key>";

/** What is wrong with an s3:// URL, if anything; `object`: it names an object, not a prefix. */
function s3UrlProblem(url: string, object: boolean): string | undefined {
  if (/^https?:\/\//i.test(url)) {
    return (
      `must be an s3:// URL (${S3_SHAPE}), not http(s)://: SQL Server's S3 connector takes s3:// and always ` +
      "reaches the endpoint over HTTPS (s3ConnectorUrl builds one from an https:// endpoint)"
    );
  }
  const match = S3_URL.exec(url);
  if (!match) return `must be an s3:// URL: ${S3_SHAPE}`;
  if (match[2] !== undefined && (Number(match[2]) < 1 || Number(match[2]) > 65535)) {
    return `has port ${match[2]}: a port is 1 to 65535`;
  }
  const path = match[3] ?? "";
  if (object && (path.replace(/\//g, "") === "" || path.endsWith("/"))) {
    return `must name an object: ${S3_SHAPE} (no trailing '/')`;
  }
  if (!object && (path.replace(/\//g, "") === "" || path.endsWith("/"))) {
    return "must name a bucket, without a trailing '/': s3://<endpoint>[:port]/<bucket>[/<folder>] (SQL Server looks a URL's credential up from the URL down to its bucket)";
  }
  if (path.split("/").slice(1).includes("") && path !== "") return "must not have an empty path segment ('//')";
  return undefined;
}

const s3Object = z.string(`must be an s3:// URL: ${S3_SHAPE}`).superRefine((url, ctx) => {
  const problem = s3UrlProblem(url, true);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
  else if (url.length > MAX_DEVICE) {
    ctx.addIssue({
      code: "custom",
      message: `must be at most ${MAX_DEVICE} characters (SQL Server's limit for a backup device)`,
    });
  }
});

const s3Prefix = z.string("must be an s3:// URL prefix: s3://<endpoint>[:port]/<bucket>").superRefine((url, ctx) => {
  const problem = s3UrlProblem(url, false);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
  else if (url.length > 128) {
    ctx.addIssue({ code: "custom", message: "must be at most 128 characters (it names the credential)" });
  }
});

const database = sqlServerName;
const copyOnly = z.boolean("must be true or false").default(true);
const compression = z.boolean("must be true or false").default(true);

const toUrl = z.strictObject({ database, url: s3Object, credential: sqlServerName.optional(), copyOnly });
const toDisk = z.strictObject({ database, path: backupPath, copyOnly, compression });

const source = z
  .strictObject({ url: s3Object.optional(), disk: backupPath.optional() })
  .refine((s) => (s.url === undefined) !== (s.disk === undefined), {
    message: "must name either url (an s3:// URL) or disk (an absolute path), and only one",
  });

const SYSTEM_DATABASES = ["master", "model", "msdb", "tempdb"];

const restoreSchema = z
  .strictObject({
    database: database.refine((d) => !SYSTEM_DATABASES.includes(d.toLowerCase()), "must not be a system database"),
    from: source,
    logBackups: z.array(source, "must be a list of backups ({url} or {disk})").default([]),
    stopAt: z.date("must be a valid Date").optional(),
    moveTo: z
      .strictObject({
        files: z.record(z.string(), backupPath, "must map each logical file name to a path").optional(),
        dataDir: directory.optional(),
        logDir: directory.optional(),
      })
      .refine((m) => m.files === undefined || (m.dataDir === undefined && m.logDir === undefined), {
        message: "must give either files, or dataDir and/or logDir, not both",
      })
      .optional(),
    replace: z.boolean("must be true or false").default(false),
    credential: sqlServerName.optional(),
  })
  .superRefine((o, ctx) => {
    if (o.stopAt && o.logBackups.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["stopAt"],
        message: "needs logBackups: a point in time is restored from the log backups that follow the full one",
      });
    }
  });

const credentialSchema = z.strictObject({
  urlPrefix: s3Prefix,
  accessKeyId: z
    .string("must be a string")
    .min(1, "must not be empty")
    .refine((k) => !k.includes(":"), "must not contain ':' (SQL Server reads the secret as <access key>:<secret key>)"),
  secretAccessKey: z
    .string("must be a string (set it as a secret)")
    .min(1, "must not be empty")
    .refine((k) => !k.includes(":"), "must not contain ':' (SQL Server reads the secret as <access key>:<secret key>)"),
});

const positionSchema = z.strictObject({
  database,
  type: z.enum(["database", "log"], "must be 'database' or 'log'").default("database"),
  device: z.string("must be the path or URL the backup was written to").optional(),
});

/** A zod issue's path as a user writes it: from.url, logBackups[1].disk. */
const pathText = (path: readonly PropertyKey[]): string =>
  path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("");

/** The parsed input, or an error naming the function and each field at fault (never a field's value). */
function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const at = pathText(issue.path);
    return at ? `${at}: ${issue.message}` : issue.message;
  });
  throw new Error(`${what}: ${problems.join("; ")}`);
}

// --- backups -----------------------------------------------------------------------------------------------

/** A full or log backup to an object of S3-compatible storage. */
export interface BackupToUrl {
  readonly database: string;
  /** s3://<endpoint>[:port]/<bucket>/<key>; the endpoint must serve HTTPS with a certificate the server trusts. */
  readonly url: string;
  /** A credential to use by name; by default SQL Server picks the one whose name is the longest prefix of the URL. */
  readonly credential?: string;
  /** Default: true (see the top of this file). */
  readonly copyOnly?: boolean;
}

/** A full or log backup to a file on the server's host. */
export interface BackupToDisk {
  readonly database: string;
  /** An absolute path on the server's host (in a container: the container's file system). */
  readonly path: string;
  /** Default: true (see the top of this file). */
  readonly copyOnly?: boolean;
  /** Default: true. Express and Web editions cannot write compressed backups: false for them. */
  readonly compression?: boolean;
}

type Device = { readonly url?: string; readonly disk?: string };

const deviceClause = (device: Device): string =>
  device.url !== undefined ? `URL = ${unicodeLiteral(device.url)}` : `DISK = ${unicodeLiteral(device.disk!)}`;

/**
 * BACKUP DATABASE or LOG, one device, overwriting what it holds (FORMAT: S3 objects cannot be appended to,
 * and a file written again is a new backup), with page checksums verified and a backup checksum written.
 */
function backupStatement(
  kind: "DATABASE" | "LOG",
  db: string,
  device: Device,
  options: { copyOnly: boolean; compression?: boolean; credential?: string },
): string {
  const withOptions = [
    "FORMAT",
    ...(options.compression === false ? [] : ["COMPRESSION"]),
    "CHECKSUM",
    ...(options.copyOnly ? ["COPY_ONLY"] : []),
    ...(options.credential !== undefined ? [`CREDENTIAL = ${unicodeLiteral(options.credential)}`] : []),
  ];
  return `BACKUP ${kind} ${bracketed(db)} TO ${deviceClause(device)} WITH ${withOptions.join(", ")}`;
}

/**
 * A full backup of `database` to S3-compatible storage (SQL Server 2022 and later, not Express): a credential
 * named after the URL or a prefix of it must exist (ensureS3Credential), and the bucket too. COPY_ONLY unless
 * `copyOnly: false`. One object holds at most 10,000 parts of MAXTRANSFERSIZE (10 MB by default): about
 * 100 GB of compressed backup.
 */
export async function backupDatabaseToUrl(client: SqlClient, options: BackupToUrl): Promise<void> {
  const o = parse(toUrl, options, "backupDatabaseToUrl");
  await client.query(backupStatement("DATABASE", o.database, { url: o.url }, o));
}

/** A full backup of `database` to a file on the server's host, for a server without S3 support. COPY_ONLY unless `copyOnly: false`. */
export async function backupDatabaseToDisk(client: SqlClient, options: BackupToDisk): Promise<void> {
  const o = parse(toDisk, options, "backupDatabaseToDisk");
  await client.query(backupStatement("DATABASE", o.database, { disk: o.path }, o));
}

/**
 * Fails, before any BACKUP LOG, when the database has no log chain to back up: it does not exist, is in the
 * SIMPLE recovery model, or has had no regular (not copy-only) full backup since it entered FULL.
 */
async function assertLogChain(client: SqlClient, db: string, what: string): Promise<void> {
  const [row] = await client.query<{ recovery_model_desc: string; last_log_backup_lsn: string | null }>(
    `SELECT d.recovery_model_desc, CONVERT(varchar(25), rs.last_log_backup_lsn) AS last_log_backup_lsn
     FROM sys.databases d JOIN sys.database_recovery_status rs ON rs.database_id = d.database_id
     WHERE d.name = ${unicodeLiteral(db)}`,
  );
  if (!row) throw new Error(`${what}: database ${bracketed(db)} does not exist`);
  if (row.recovery_model_desc === "SIMPLE") {
    throw new Error(
      `${what}: database ${bracketed(db)} is in the SIMPLE recovery model: it has no log backups, and no ` +
        "point-in-time restore (ALTER DATABASE ... SET RECOVERY FULL, then a regular full backup)",
    );
  }
  if (row.last_log_backup_lsn === null) {
    throw new Error(
      `${what}: database ${bracketed(db)} has no log chain yet: no regular (not COPY_ONLY) full backup has ` +
        "been taken since it entered the FULL recovery model (a COPY_ONLY one does not start the chain). " +
        "Take one (copyOnly: false), or leave log backups to the jobs that take the regular full backups",
    );
  }
}

/** A log backup of `database` to S3-compatible storage, for point-in-time restores. COPY_ONLY unless `copyOnly: false`. */
export async function backupLogToUrl(client: SqlClient, options: BackupToUrl): Promise<void> {
  const o = parse(toUrl, options, "backupLogToUrl");
  await assertLogChain(client, o.database, "backupLogToUrl");
  await client.query(backupStatement("LOG", o.database, { url: o.url }, o));
}

/** A log backup of `database` to a file on the server's host, for point-in-time restores. COPY_ONLY unless `copyOnly: false`. */
export async function backupLogToDisk(client: SqlClient, options: BackupToDisk): Promise<void> {
  const o = parse(toDisk, options, "backupLogToDisk");
  await assertLogChain(client, o.database, "backupLogToDisk");
  await client.query(backupStatement("LOG", o.database, { disk: o.path }, o));
}

// --- credentials -------------------------------------------------------------------------------------------

export interface S3CredentialOptions {
  /**
   * What the credential is named after: s3://<endpoint>[:port]/<bucket>[/<folder>]. SQL Server uses, for a
   * backup URL, the credential whose name is the longest prefix of it.
   */
  readonly urlPrefix: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * The server credential the S3 connector signs its requests with (IDENTITY = 'S3 Access Key', SECRET =
 * '<access key>:<secret key>'), created or, when it exists, given these keys: idempotent. The secret reaches
 * the server as a parameter and is put into the statement there (quotes doubled), so it is in no statement
 * text this side sends, records or reports; errors have it replaced by [secret]. Needs ALTER ANY CREDENTIAL.
 */
export async function ensureS3Credential(
  client: SqlClient,
  options: S3CredentialOptions,
): Promise<"created" | "altered"> {
  const o = parse(credentialSchema, options, "ensureS3Credential");
  const secret = `${o.accessKeyId}:${o.secretAccessKey}`;
  const head = (verb: "CREATE" | "ALTER") =>
    unicodeLiteral(
      `${verb} CREDENTIAL ${bracketed(o.urlPrefix)} WITH IDENTITY = ${unicodeLiteral("S3 Access Key")}, SECRET = `,
    );
  const sql = `DECLARE @existed bit = CASE WHEN EXISTS (SELECT 1 FROM sys.credentials WHERE name = ${unicodeLiteral(o.urlPrefix)}) THEN 1 ELSE 0 END;
     DECLARE @sql nvarchar(max) = CASE @existed WHEN 1 THEN ${head("ALTER")} ELSE ${head("CREATE")} END
       + ${unicodeLiteral("N'")} + REPLACE(@secret, ${unicodeLiteral("'")}, ${unicodeLiteral("''")}) + ${unicodeLiteral("'")};
     EXEC (@sql);
     SELECT @existed AS existed;`;
  try {
    const [row] = await client.query<{ existed: boolean | number }>(sql, { secret });
    return row?.existed === true || row?.existed === 1 ? "altered" : "created";
  } catch (err) {
    throw new Error(
      `ensureS3Credential ${o.urlPrefix}: ${redact((err as Error).message, [secret, o.secretAccessKey])}`,
    );
  }
}

/**
 * The s3:// URL SQL Server's S3 connector takes for an https:// endpoint of S3-compatible storage (path
 * style): s3://<host>[:port]/<bucket>[/<key>]. Without `key`, the bucket's prefix a credential is named after.
 */
export function s3ConnectorUrl(endpoint: string, bucket: string, key?: string): string {
  let parsed: URL;
  try {
    parsed = new URL(endpoint);
  } catch {
    throw new Error("s3ConnectorUrl: endpoint: must be an https:// URL: https://<host>[:port]");
  }
  if (parsed.protocol !== "https:") {
    throw new Error("s3ConnectorUrl: endpoint: must be an https:// URL (SQL Server's S3 connector speaks only HTTPS)");
  }
  if (
    parsed.pathname.replace(/\/+$/, "") !== "" ||
    parsed.search ||
    parsed.hash ||
    parsed.username ||
    parsed.password
  ) {
    throw new Error("s3ConnectorUrl: endpoint: must be only https://<host>[:port], without a path, query or user");
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error("s3ConnectorUrl: bucket: must be an S3 bucket name (3 to 63 of a-z, 0-9, '.' and '-')");
  }
  if (key !== undefined && (key === "" || key.startsWith("/"))) {
    throw new Error("s3ConnectorUrl: key: must be an object key, not empty and not starting with '/'");
  }
  const url = `s3://${parsed.host}/${bucket}${key !== undefined ? `/${key}` : ""}`;
  const problem = s3UrlProblem(url, key !== undefined);
  if (problem) throw new Error(`s3ConnectorUrl: ${url}: ${problem}`);
  return url;
}

// --- positions ---------------------------------------------------------------------------------------------

/** Where a backup stands in the database's log, as msdb.dbo.backupset records it: what a manifest keeps. */
export interface BackupPosition {
  readonly type: "database" | "log";
  /** LSNs as backupset holds them (numeric(25,0), as decimal text); lsnFromDecimal gives Debezium's form. */
  readonly firstLsn: string;
  /** The LSN of the next log record after the backup. */
  readonly lastLsn: string;
  /** Where redo starts when the backup is restored. */
  readonly checkpointLsn: string | null;
  /** The most recent regular full backup's checkpoint LSN: the base the backup belongs to. */
  readonly databaseBackupLsn: string | null;
  /** When the backup finished (backupset's local time, turned into UTC with its time_zone). */
  readonly finishedAt: Date;
  readonly copyOnly: boolean;
  /** The path or URL it was written to. */
  readonly device: string;
}

/**
 * The position of the latest backup of `database` of that type (full by default) in msdb.dbo.backupset; with
 * `device`, of the latest one written to that path or URL, so that a backup someone else took meanwhile is
 * never mistaken for ours.
 */
export async function backupPosition(
  client: SqlClient,
  database: string,
  options: { readonly type?: "database" | "log"; readonly device?: string } = {},
): Promise<BackupPosition> {
  const o = parse(positionSchema, { database, ...options }, "backupPosition");
  const rows = await client.query<{
    first_lsn: string;
    last_lsn: string;
    checkpoint_lsn: string | null;
    database_backup_lsn: string | null;
    finished_utc: string;
    is_copy_only: boolean | number;
    device: string;
  }>(
    `SELECT TOP (1) CONVERT(varchar(25), bs.first_lsn) AS first_lsn, CONVERT(varchar(25), bs.last_lsn) AS last_lsn,
            CONVERT(varchar(25), bs.checkpoint_lsn) AS checkpoint_lsn,
            CONVERT(varchar(25), bs.database_backup_lsn) AS database_backup_lsn,
            CONVERT(varchar(23), DATEADD(minute, -CASE WHEN bs.time_zone BETWEEN -48 AND 48 THEN 15 * bs.time_zone
              ELSE DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) END, bs.backup_finish_date), 126) AS finished_utc,
            bs.is_copy_only, mf.physical_device_name AS device
     FROM msdb.dbo.backupset bs JOIN msdb.dbo.backupmediafamily mf ON mf.media_set_id = bs.media_set_id
     WHERE bs.database_name = ${unicodeLiteral(o.database)} AND bs.type = ${o.type === "log" ? "'L'" : "'D'"}${
       o.device !== undefined ? ` AND mf.physical_device_name = ${unicodeLiteral(o.device)}` : ""
     }
     ORDER BY bs.backup_set_id DESC`,
  );
  const row = rows[0];
  if (!row) {
    throw new Error(
      `backupPosition: msdb.dbo.backupset has no ${o.type === "log" ? "log" : "full"} backup of ${bracketed(o.database)}` +
        (o.device !== undefined ? ` written to ${o.device}` : ""),
    );
  }
  return {
    type: o.type,
    firstLsn: row.first_lsn,
    lastLsn: row.last_lsn,
    checkpointLsn: row.checkpoint_lsn,
    databaseBackupLsn: row.database_backup_lsn,
    finishedAt: new Date(`${row.finished_utc}Z`),
    copyOnly: row.is_copy_only === true || row.is_copy_only === 1,
    device: row.device,
  };
}

/**
 * An LSN in backupset's decimal form (VLF sequence, then the log block in 10 digits and the slot in 5) as
 * lower-case hex without separators, the form of lib/connector-lsn.ts's normalLsn (Debezium's commit_lsn,
 * CONVERT(char(20), lsn, 2)): 34000000017600001 -> 00000022000000b00001.
 */
export function lsnFromDecimal(decimal: string): string {
  if (!/^\d{1,25}$/.test(decimal)) throw new Error(`lsnFromDecimal: not a decimal LSN: '${decimal}'`);
  const n = BigInt(decimal);
  const vlf = n / 10n ** 15n;
  const block = (n / 10n ** 5n) % 10n ** 10n;
  const slot = n % 10n ** 5n;
  return `${vlf.toString(16).padStart(8, "0")}${block.toString(16).padStart(8, "0")}${slot.toString(16).padStart(4, "0")}`;
}

// --- restores ----------------------------------------------------------------------------------------------

/** A backup to restore from: an object of S3-compatible storage, or a file on the server's host. */
export type SqlServerBackupDevice = { readonly url: string } | { readonly disk: string };

/** Where the restored database's files go: directories (each file named after the database), or a path per file. */
export type RestoreMove =
  { readonly dataDir?: string; readonly logDir?: string } | { readonly files: Readonly<Record<string, string>> };

export interface SqlServerRestoreOptions {
  /** The database to create (a new name: CDC is not kept, the stack enables it again). */
  readonly database: string;
  /** The full backup. */
  readonly from: SqlServerBackupDevice;
  /** Log backups taken after it, oldest first: the ones up to and including the one that holds `stopAt`. */
  readonly logBackups?: readonly SqlServerBackupDevice[];
  /** Restore to the last transaction committed at or before this instant (needs logBackups). */
  readonly stopAt?: Date;
  /**
   * Where its files go. Default: the server's default data and log directories
   * (SERVERPROPERTY('InstanceDefaultDataPath'), InstanceDefaultLogPath), for a directory not given.
   */
  readonly moveTo?: RestoreMove;
  /** Overwrite a database of that name, and files that belong to no database. Default: false. */
  readonly replace?: boolean;
  /** A credential for URL sources, by name (by default SQL Server picks the one named after the URL's prefix). */
  readonly credential?: string;
}

/** One file of the restored database, as RESTORE FILELISTONLY listed it and where it was restored. */
export interface RestoredFile {
  readonly logicalName: string;
  /** D data, L log, F full-text catalog, S FILESTREAM or memory-optimized container. */
  readonly type: string;
  readonly physicalName: string;
}

export interface RestoreResult {
  readonly database: string;
  readonly files: RestoredFile[];
  /** How many of logBackups were applied. */
  readonly logsApplied: number;
  /**
   * With stopAt: the index in logBackups of the log backup that held it (the later ones are not needed);
   * null when the logs end before it, and the database was recovered at their end. Without stopAt: null.
   */
  readonly stoppedInLog: number | null;
}

interface FileListRow {
  LogicalName: string;
  PhysicalName: string;
  Type: string;
  FileID: number | string;
}

/** A file name in a directory of the server's host, with the directory's separator. */
function inDirectory(dir: string, name: string): string {
  if (dir.endsWith("/") || dir.endsWith("\\")) return `${dir}${name}`;
  const windows = dir.includes("\\") && !dir.includes("/");
  return `${dir}${windows ? "\\" : "/"}${name}`;
}

/**
 * The name a restored file gets in a directory: after the database (characters other than letters, digits,
 * '_', '.' and '-' replaced by '_'), by type and file id: <db>.mdf for the primary data file (file id 1),
 * <db>_<id>.ndf for the other data files, <db>_log.ldf for the first log file, <db>_log_<id>.ldf for others.
 */
function restoredFileName(db: string, file: FileListRow, firstLog: number): string {
  const base = db.replace(/[^A-Za-z0-9_.-]/g, "_");
  const id = Number(file.FileID);
  switch (file.Type) {
    case "D":
      return id === 1 ? `${base}.mdf` : `${base}_${id}.ndf`;
    case "L":
      return id === firstLog ? `${base}_log.ldf` : `${base}_log_${id}.ldf`;
    case "F":
      return `${base}_ft_${id}`;
    default:
      return `${base}_${id}`;
  }
}

/**
 * The point in time as the server's local time, which STOPAT compares with the commit times in the log (they
 * are local, as backupset's dates are): the instant is written in UTC and moved to the server's offset there.
 * The offset is the server's current one: on a server whose zone has daylight saving time, a point on the
 * other side of a change from now is off by the change (servers in UTC, as containers are, are not).
 * STOPAT takes a variable of type datetime.
 */
const stopAtDeclaration = (at: Date) =>
  `DECLARE @stopat datetime = CONVERT(datetime, SWITCHOFFSET(CONVERT(datetimeoffset(3), ${unicodeLiteral(
    `${at.toISOString().slice(0, 23)}+00:00`,
  )}), DATEPART(TZOFFSET, SYSDATETIMEOFFSET())));`;

/**
 * Restores a full backup under a new name, and its log backups up to `stopAt` (point in time) or to their end.
 * RESTORE FILELISTONLY lists the backup's files; each is moved (to moveTo, or the server's default
 * directories), never restored over the original's files. With log backups: the full one WITH NORECOVERY,
 * each log WITH NORECOVERY (without stopAt) or WITH STOPAT = stopAt, RECOVERY (with it: a log that ends before
 * stopAt leaves the database restoring; the one that holds it recovers it, and the later ones are not
 * applied), then RESTORE ... WITH RECOVERY if the database is still restoring. With stopAt, the full restore
 * carries it too: a full backup taken after stopAt fails at once. No KEEP_CDC: the stack enables CDC again.
 * REPLACE only with `replace: true`. Run on a connection to another database (master).
 */
export async function restoreDatabaseFrom(client: SqlClient, options: SqlServerRestoreOptions): Promise<RestoreResult> {
  const o = parse(restoreSchema, options, "restoreDatabaseFrom");
  const db = bracketed(o.database);
  const credential = (device: Device) =>
    device.url !== undefined && o.credential !== undefined ? [`CREDENTIAL = ${unicodeLiteral(o.credential)}`] : [];

  const listCredential = credential(o.from);
  const list = await client.query<FileListRow>(
    `RESTORE FILELISTONLY FROM ${deviceClause(o.from)}${listCredential.length > 0 ? ` WITH ${listCredential[0]}` : ""}`,
  );
  if (list.length === 0) throw new Error("restoreDatabaseFrom: RESTORE FILELISTONLY listed no file in the backup");

  let files: RestoredFile[];
  const explicit = o.moveTo?.files;
  if (explicit) {
    const missing = list.filter((f) => explicit[f.LogicalName] === undefined).map((f) => `'${f.LogicalName}'`);
    const known = new Set(list.map((f) => f.LogicalName));
    const unknown = Object.keys(explicit)
      .filter((name) => !known.has(name))
      .map((name) => `'${name}'`);
    if (missing.length > 0 || unknown.length > 0) {
      throw new Error(
        "restoreDatabaseFrom: moveTo.files: " +
          [
            ...(missing.length > 0 ? [`no path for ${missing.join(", ")}`] : []),
            ...(unknown.length > 0 ? [`${unknown.join(", ")} is no file of the backup`] : []),
          ].join("; ") +
          ` (the backup holds ${list.map((f) => `'${f.LogicalName}'`).join(", ")})`,
      );
    }
    files = list.map((f) => ({ logicalName: f.LogicalName, type: f.Type, physicalName: explicit[f.LogicalName] }));
  } else {
    let dataDir = o.moveTo?.dataDir;
    let logDir = o.moveTo?.logDir;
    if (dataDir === undefined || logDir === undefined) {
      const [paths] = await client.query<{ data_dir: string | null; log_dir: string | null }>(
        `SELECT CONVERT(nvarchar(260), SERVERPROPERTY('InstanceDefaultDataPath')) AS data_dir,
                CONVERT(nvarchar(260), SERVERPROPERTY('InstanceDefaultLogPath')) AS log_dir`,
      );
      dataDir ??= paths?.data_dir ?? undefined;
      logDir ??= paths?.log_dir ?? undefined;
      if (dataDir === undefined || logDir === undefined) {
        throw new Error(
          "restoreDatabaseFrom: the server reports no default data or log directory: give moveTo.dataDir and moveTo.logDir",
        );
      }
    }
    const firstLog = Math.min(...list.filter((f) => f.Type === "L").map((f) => Number(f.FileID)));
    files = list.map((f) => ({
      logicalName: f.LogicalName,
      type: f.Type,
      physicalName: inDirectory(f.Type === "L" ? logDir : dataDir, restoredFileName(o.database, f, firstLog)),
    }));
  }

  const logs = o.logBackups;
  const declaration = o.stopAt ? `${stopAtDeclaration(o.stopAt)}\n` : "";
  const fullOptions = [
    ...files.map((f) => `MOVE ${unicodeLiteral(f.logicalName)} TO ${unicodeLiteral(f.physicalName)}`),
    ...(o.replace ? ["REPLACE"] : []),
    ...(o.stopAt ? ["STOPAT = @stopat"] : []),
    logs.length > 0 ? "NORECOVERY" : "RECOVERY",
    ...credential(o.from),
  ];
  await client.query(
    `${declaration}RESTORE DATABASE ${db} FROM ${deviceClause(o.from)} WITH ${fullOptions.join(", ")}`,
  );

  let logsApplied = 0;
  let stoppedInLog: number | null = null;
  for (const [i, log] of logs.entries()) {
    const logOptions = [...(o.stopAt ? ["STOPAT = @stopat", "RECOVERY"] : ["NORECOVERY"]), ...credential(log)];
    await client.query(`${declaration}RESTORE LOG ${db} FROM ${deviceClause(log)} WITH ${logOptions.join(", ")}`);
    logsApplied++;
    if (o.stopAt) {
      const [state] = await client.query<{ state_desc: string }>(
        `SELECT state_desc FROM sys.databases WHERE name = ${unicodeLiteral(o.database)}`,
      );
      if (state?.state_desc === "ONLINE") {
        stoppedInLog = i;
        break;
      }
    }
  }
  if (logs.length > 0 && stoppedInLog === null) await client.query(`RESTORE DATABASE ${db} WITH RECOVERY`);
  return { database: o.database, files, logsApplied, stoppedInLog };
}

/** Whether a database of that name exists on the server. */
export async function sqlServerDatabaseExists(client: SqlClient, database: string): Promise<boolean> {
  const rows = await client.query(`SELECT name FROM sys.databases WHERE name = ${unicodeLiteral(database)}`);
  return rows.length > 0;
}

/**
 * Drops a database, its sessions rolled back first (a restored scratch copy has none, but a query left open
 * would block DROP); one already gone is not an error.
 */
export async function dropSqlServerDatabase(client: SqlClient, database: string): Promise<void> {
  const db = bracketed(parse(z.object({ database: sqlServerName }), { database }, "dropSqlServerDatabase").database);
  await client.query(
    `IF DB_ID(${unicodeLiteral(database)}) IS NOT NULL
     BEGIN
       IF DATABASEPROPERTYEX(${unicodeLiteral(database)}, 'Status') = 'ONLINE'
         ALTER DATABASE ${db} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;
       DROP DATABASE ${db};
     END`,
  );
}

/**
 * Takes a database offline, its sessions rolled back (a Debezium connector's, say), so that a RESTORE ... WITH
 * REPLACE can have it: a single-user database could be taken by another session first. RESTORE brings it back
 * online. A database that does not exist is left alone.
 */
export async function takeSqlServerDatabaseOffline(client: SqlClient, database: string): Promise<void> {
  const db = bracketed(
    parse(z.object({ database: sqlServerName }), { database }, "takeSqlServerDatabaseOffline").database,
  );
  await client.query(
    `IF DB_ID(${unicodeLiteral(database)}) IS NOT NULL ALTER DATABASE ${db} SET OFFLINE WITH ROLLBACK IMMEDIATE`,
  );
}

// `cdc-pipeline backup`: the stack's source database, its configuration and its files, each written to the
// backup bucket as one object with a manifest beside it, and reported to a Pushgateway when there is one.
// A backup runs from a BackupJob: what it reads and where it writes, and no more. `backup --stack` builds one
// from the stack; a scheduled job (`backup schedule --job FILE`) reads one from a file, with the database
// password and the bucket's credentials in its environment: it never needs the stack's secrets passphrase.
import { spawn } from "node:child_process";
import { createReadStream, existsSync, rmSync } from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import axios from "axios";
import { backupExtension, backupKey, sqlServerLogKey, timeField, type BackupKind } from "../lib/backup-keys";
import { putManifest, uploadStream, type BackupBucket, type BackupManifest } from "../lib/backup-objects";
import { consumeOutput } from "../lib/child-process";
import { connectHttp } from "../lib/connect-rest";
import { getConfig, getOffsets } from "../lib/connector-api";
import { readCdcFacts } from "../lib/logical-replication";
import { pipelineNames } from "../lib/pipeline-names";
import { dumpDatabase } from "../lib/postgres-backup";
import { baseBackup } from "../lib/postgres-pitr";
import { redact } from "../lib/redact";
import { backupDatabaseToDisk, backupLogToDisk, backupPosition } from "../lib/sqlserver-backup";
import { readSqlServerCdc } from "../lib/sqlserver-cdc-sql";
import { withClient, type PostgresConnection } from "../lib/postgres";
import { withSqlServer, type SqlClient, type SqlServerConnection } from "../lib/sqlserver";
import { z } from "zod";
import { backupsSchema, sourceSchema, tableSchema, targetSchema, type StackSettings } from "../config";
import { postgresSide, tableDigest } from "../lib/reconcile";
import { reconciledTables } from "./reconcile";
import { s3Client } from "../lib/backup-objects";
import type { StackSite } from "./stacks";

/** What a backup reads and where it writes it; passwords are not in it (see loadBackupJob). */
export const backupJobSchema = z.strictObject({
  /** The stack the backups belong to (named in keys and manifests). */
  stack: z.string().min(1),
  /** The source database as the job reaches it. */
  source: sourceSchema,
  /** The captured tables, counted and hashed into the database backup's manifest. */
  tables: z.array(tableSchema).min(1),
  /** The connectors' topic prefix and the Connect REST API, for the config kind. */
  topicPrefix: z.string().min(1),
  /** A PostgreSQL source's slot and publication when the stack names them (pipeline.slotName, publicationName). */
  slotName: z.string().min(1).optional(),
  publicationName: z.string().min(1).optional(),
  connectUrl: z.url(),
  /** The stack's backups settings, with the bucket resolved. */
  backups: backupsSchema.extend({ bucket: z.string().min(1) }),
  /** The target database, for `backup --kind target` (on request; a job file without it cannot take one). */
  target: targetSchema.optional(),
});
export type BackupJob = Omit<z.infer<typeof backupJobSchema>, "source"> & {
  /** The source, with its TLS settled as a stack's is (config.ts; a job file's by parseBackupJob). */
  readonly source: StackSettings["source"];
  /** The source database's password (a job file reads it from CDC_SOURCE_PASSWORD). */
  readonly sourcePassword: string;
  /** The target's (CDC_TARGET_PASSWORD), when the job has a target. */
  readonly targetPassword?: string;
};

/** A stack's backup job, with its bucket (the stack's own, or the one named). */
export function stackBackupJob(site: StackSite, bucket: { bucket: string; endpoint?: string }): BackupJob {
  const { settings } = site;
  return {
    stack: site.stack.name,
    source: { ...settings.source },
    tables: settings.tables,
    topicPrefix: settings.pipeline.topicPrefix,
    slotName: settings.pipeline.slotName,
    publicationName: settings.pipeline.publicationName,
    connectUrl: settings.kafkaConnect.url,
    backups: { ...settings.backups, bucket: bucket.bucket, endpoint: bucket.endpoint },
    target: settings.target,
    sourcePassword: site.sourcePassword,
    targetPassword: site.targetPassword,
  };
}

/** The job as it may be written down (a job file, a config backup): every password taken out. */
export function withoutPasswords(job: BackupJob): z.infer<typeof backupJobSchema> {
  const { sourcePassword: _source, targetPassword: _target, ...rest } = job;
  return rest;
}

/** A job file as the scheduled backup container gets it; errors name the field. */
export function parseBackupJob(json: unknown, env: NodeJS.ProcessEnv): BackupJob {
  const parsed = backupJobSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(job)"} ${i.message}`);
    throw new Error(`invalid backup job:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  if (!env.CDC_SOURCE_PASSWORD) throw new Error("CDC_SOURCE_PASSWORD is not set: the source database's password");
  return {
    ...parsed.data,
    source: settledTls(parsed.data.source),
    sourcePassword: env.CDC_SOURCE_PASSWORD,
    targetPassword: env.CDC_TARGET_PASSWORD,
  };
}

/**
 * A job's source with its TLS settled: a SQL Server source's on, and no certificate trusted that no CA signed,
 * unless the job says otherwise; a PostgreSQL source's off (its connections are plain), as config.ts settles a
 * stack's.
 */
function settledTls(source: z.infer<typeof sourceSchema>): StackSettings["source"] {
  const sqlServer = source.engine === "sqlserver";
  return {
    ...source,
    encrypt: sqlServer && (source.encrypt ?? true),
    trustServerCertificate: sqlServer && (source.trustServerCertificate ?? false),
  };
}

/** Where a job's backups go: the bucket, and the key template its objects are named by. */
export interface BackupDestination extends BackupBucket {
  readonly keyTemplate: string;
}

/** The job's bucket: SSE-KMS with its key when it names one. */
export function jobDestination(job: BackupJob): BackupDestination {
  const { bucket, endpoint, keyTemplate, kmsKeyId } = job.backups;
  return {
    client: s3Client({ endpoint }),
    bucket,
    keyTemplate,
    kmsKeyId,
  };
}

/** The source's connection for either engine (pg takes no notice of the TLS settings). */
const jobSource = (job: BackupJob): PostgresConnection & SqlServerConnection => ({
  ...job.source,
  password: job.sourcePassword,
});

export interface BackupOptions {
  /** Bytes per uploaded part. Default: 8 MiB. */
  readonly partSize?: number;
  /** The time the backup is named after. Default: now. */
  readonly now?: Date;
  /** How a SQL Server source is reached. Default: a connection from the job (sqlServerSessions). */
  readonly sqlServer?: SqlServerSession;
}

const seconds = (since: number) => Math.round((performance.now() - since) / 10) / 100;

/** A backup's key: by the template, but a SQL Server log backup's, which orders by time in its stack's log/. */
const keyOf = (job: BackupJob, dest: BackupDestination, kind: BackupKind, at: Date) =>
  kind === "log"
    ? sqlServerLogKey(job.stack, at)
    : backupKey(dest.keyTemplate, { kind, stack: job.stack, at, ext: backupExtension(kind, job.source.engine) });

/** One backup being taken: its key and time, and the manifest that ends it. */
function begin(job: BackupJob, dest: BackupDestination, kind: BackupKind, options: BackupOptions) {
  const started = performance.now();
  const takenAt = options.now ?? new Date();
  const key = keyOf(job, dest, kind, takenAt);
  return {
    key,
    takenAt,
    /** Writes the object's manifest, last: an object without one is a backup that did not finish. */
    async finish(object: { sha256: string; size: number }, source?: BackupManifest["source"]) {
      const manifest: BackupManifest = {
        format: 1,
        kind,
        stack: job.stack,
        takenAt: takenAt.toISOString(),
        key,
        ...object,
        ...(source ? { source } : {}),
        ...(dest.kmsKeyId ? { encryption: { kmsKeyId: dest.kmsKeyId } } : {}),
        seconds: seconds(started),
      };
      await putManifest(dest, manifest);
      return manifest;
    },
  };
}

/**
 * The source database, dumped by pg_dump in a snapshot it shares with the session that counts and hashes
 * every captured table, and streamed into a multipart upload.
 */
export async function backupDatabase(
  job: BackupJob,
  dest: BackupDestination,
  options: BackupOptions = {},
): Promise<BackupManifest> {
  if (job.source.engine === "sqlserver") return backupSqlServer(job, dest, "database", options);
  return dumpPostgres(job, dest, "database", options);
}

/**
 * The target database, on request (`backup --kind target`): dumped the same way, under its own kind so that
 * it never counts as, nor is restored as, a backup of the source.
 */
export async function backupTarget(
  job: BackupJob,
  dest: BackupDestination,
  options: BackupOptions = {},
): Promise<BackupManifest> {
  const { target, targetPassword } = job;
  if (!target || targetPassword === undefined) {
    throw new Error("backup --kind target: the job has no target (a job file needs target and CDC_TARGET_PASSWORD)");
  }
  const ofTarget: BackupJob = {
    ...job,
    source: settledTls({
      engine: "postgres",
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user,
    }),
    sourcePassword: targetPassword,
    tables: job.tables.map((t) => ({ ...t, schema: target.schema })),
  };
  return dumpPostgres(ofTarget, dest, "target", options);
}

/** pg_dump of the job's (PostgreSQL) source, with its tables counted and hashed in the dump's snapshot. */
async function dumpPostgres(
  job: BackupJob,
  dest: BackupDestination,
  kind: "database" | "target",
  options: BackupOptions,
): Promise<BackupManifest> {
  const { source } = job;
  const run = begin(job, dest, kind, options);
  let object = { sha256: "", size: 0 };
  const { at, facts } = await dumpDatabase(
    jobSource(job),
    async (client) => {
      const side = await postgresSide(client);
      const tables: Record<string, { rows: number; hash: string }> = {};
      for (const t of reconciledTables(job.tables)) {
        tables[`${t.source.schema}.${t.source.name}`] = await tableDigest(side, t);
      }
      return tables;
    },
    async (dump) => {
      object = await uploadStream(dest, run.key, dump, { partSize: options.partSize });
    },
  );
  return run.finish(object, { engine: "postgres", database: source.database, position: at.position, tables: facts });
}

/**
 * A session on a SQL Server source's server, open for the duration of `work`: on the source database, or the
 * one named (a restore runs on master).
 */
export type SqlServerSession = <T>(
  work: (client: SqlClient) => Promise<T>,
  options?: { readonly database?: string; readonly requestTimeoutMs?: number },
) => Promise<T>;

/** Sessions on a SQL Server source as `conn` reaches it. */
export const sqlServerSessions =
  (conn: SqlServerConnection): SqlServerSession =>
  (work, options = {}) =>
    withSqlServer({ ...conn, database: options.database ?? conn.database }, work, options.requestTimeoutMs);

/** The directory a SQL Server source's BACKUP writes and RESTORE reads, on the server's host and on this one. */
export type SqlServerDirectories = NonNullable<BackupJob["backups"]["sqlServer"]>;

/** backups.sqlServer, which a SQL Server source's backups and restores need. */
export function sqlServerDirectories(backups: Pick<BackupJob["backups"], "sqlServer">): SqlServerDirectories {
  const dirs = backups.sqlServer;
  if (!dirs) {
    throw new Error(
      "backups.sqlServer.serverDirectory is required for a SQL Server source: the directory its BACKUP writes to " +
        "and RESTORE reads from, which this host reads and writes as backups.sqlServer.localDirectory",
    );
  }
  return dirs;
}

/** A file in backups.sqlServer's directory, as the server names it and as this host does. */
export function sqlServerFile(dirs: SqlServerDirectories, file: string) {
  return {
    server: dirs.serverDirectory.includes("\\")
      ? `${dirs.serverDirectory.replace(/\\+$/, "")}\\${file}`
      : path.posix.join(dirs.serverDirectory, file),
    local: path.join(dirs.localDirectory ?? dirs.serverDirectory, file),
  };
}

/** What each SQL Server kind writes: a full backup (.bak) or a log backup (.trn), and its type in msdb. */
const SQLSERVER_BACKUPS = {
  database: { ext: "bak", type: "database", write: backupDatabaseToDisk },
  log: { ext: "trn", type: "log", write: backupLogToDisk },
} as const;

/**
 * A SQL Server backup through backups.sqlServer's directory: the server backs up to a file there (COPY_ONLY,
 * which leaves the runbooks' own backup sequence alone: lib/sqlserver-backup.ts), its position is read from
 * msdb, and the file is read back here through localDirectory, uploaded, then removed. The manifest records
 * the backup's last LSN and its first (where a log backup's log begins) and no table digests: a backup's
 * consistency point is not a snapshot a session can read, so `verify` checks the restored copy's checksums
 * and tables instead (ops/restore.ts).
 */
async function backupSqlServer(
  job: BackupJob,
  dest: BackupDestination,
  kind: keyof typeof SQLSERVER_BACKUPS,
  options: BackupOptions,
): Promise<BackupManifest> {
  const { ext, type, write } = SQLSERVER_BACKUPS[kind];
  const dirs = sqlServerDirectories(job.backups);
  const run = begin(job, dest, kind, options);
  const file = sqlServerFile(dirs, `cdc-${job.stack}-${timeField(run.takenAt)}.${ext}`);
  const session = options.sqlServer ?? sqlServerSessions(jobSource(job));
  const database = job.source.database;
  try {
    const position = await session(
      async (client) => {
        await write(client, { database, path: file.server });
        return backupPosition(client, database, { type, device: file.server });
      },
      { requestTimeoutMs: dirs.timeoutMinutes * 60_000 },
    );
    const object = await uploadStream(dest, run.key, createReadStream(file.local), { partSize: options.partSize });
    return await run.finish(object, {
      engine: "sqlserver",
      database,
      position: position.lastLsn,
      firstPosition: position.firstLsn,
      tables: {},
    });
  } finally {
    rmSync(file.local, { force: true });
  }
}

/**
 * A SQL Server source's log backup, for restores to a point in time: COPY_ONLY BACKUP LOG (the log since the
 * last regular log backup), uploaded as `log/<stack>/<time>.trn`. It needs the database's log chain (FULL
 * recovery and a regular full backup, which the runbooks' jobs take).
 */
export async function backupSqlServerLog(
  job: BackupJob,
  dest: BackupDestination,
  options: BackupOptions = {},
): Promise<BackupManifest> {
  if (job.source.engine !== "sqlserver") {
    throw new Error(
      "backup --kind log: a PostgreSQL source's WAL is archived all along by `backup schedule` (backups.schedule.log)",
    );
  }
  return backupSqlServer(job, dest, "log", options);
}

/** Connector config keys whose values are secrets, whatever the connector. */
const SECRET_CONFIG_KEY = /password|secret|token|credential|jaas/i;

/** What resumes the pipeline: the job's settings (no secret is among them), connectors and offsets, CDC facts. */
export async function configSnapshot(job: BackupJob): Promise<Record<string, unknown>> {
  const settings = withoutPasswords(job);
  const secrets = [job.sourcePassword, job.targetPassword ?? ""].filter((p) => p !== "");
  const names = pipelineNames(job, job.source);
  const http = connectHttp({ url: job.connectUrl });
  const connectors: Record<string, unknown> = {};
  for (const name of [names.sourceConnector, names.sinkConnector]) {
    const config = await getConfig(http, name, secrets);
    connectors[name] = config
      ? {
          config: Object.fromEntries(
            Object.entries(config).map(([k, v]) => [k, SECRET_CONFIG_KEY.test(k) ? "[removed]" : redact(v, secrets)]),
          ),
          offsets: (await getOffsets(http, name, secrets)).offsets,
        }
      : null;
  }
  const cdc =
    job.source.engine === "postgres"
      ? await withClient(jobSource(job), async (client) => ({
          ...(await readCdcFacts(client, {
            publication: names.publication,
            slot: names.slot,
            tables: job.tables,
            replicationUser: job.source.connectorUser ?? job.source.user,
          })),
          slotPosition:
            (
              await client.query<{ lsn: string | null }>(
                "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
                [names.slot],
              )
            ).rows[0]?.lsn ?? null,
        }))
      : await withSqlServer(jobSource(job), (client) => readSqlServerCdc(client, ""));
  return { stack: job.stack, settings, connectors, cdc };
}

export async function backupConfig(
  job: BackupJob,
  dest: BackupDestination,
  options: BackupOptions = {},
): Promise<BackupManifest> {
  const run = begin(job, dest, "config", options);
  const body = Buffer.from(JSON.stringify(await configSnapshot(job), null, 2));
  const object = await uploadStream(dest, run.key, Readable.from([body]), { partSize: options.partSize });
  return run.finish(object);
}

/** The stack's `backups.files`, as one gzipped tarball streamed from tar. */
export async function backupFiles(
  job: BackupJob,
  dest: BackupDestination,
  options: BackupOptions = {},
): Promise<BackupManifest> {
  const { files } = job.backups;
  if (files.length === 0) throw new Error("backup --kind files: the stack's backups.files lists no path");
  const gone = files.map((f, i) => [f, i] as const).filter(([f]) => !existsSync(f));
  if (gone.length > 0) {
    throw new Error(`backups.files: ${gone.map(([f, i]) => `[${i}] ${f}`).join(", ")} does not exist`);
  }
  const run = begin(job, dest, "files", options);
  const tar = spawn("tar", ["-czPf", "-", "--", ...files], { stdio: ["ignore", "pipe", "pipe"] });
  let object = { sha256: "", size: 0 };
  await consumeOutput(tar, "tar", [], async (archive) => {
    object = await uploadStream(dest, run.key, archive, { partSize: options.partSize });
  });
  return run.finish(object);
}

/**
 * A physical base backup of the source's cluster (pg_basebackup, one tar), the start of every point-in-time
 * restore: replayed with the archived WAL to any time after it completed.
 */
export async function backupBase(
  job: BackupJob,
  dest: BackupDestination,
  options: BackupOptions = {},
): Promise<BackupManifest> {
  if (job.source.engine !== "postgres") throw new Error("backup --kind base: only a PostgreSQL source has one");
  const run = begin(job, dest, "base", options);
  let object = { sha256: "", size: 0 };
  const position = await baseBackup(jobSource(job), async (tar) => {
    object = await uploadStream(dest, run.key, tar, { partSize: options.partSize });
  });
  return run.finish(object, {
    engine: "postgres",
    database: job.source.database,
    position: position.endLsn,
    startSegment: position.startSegment,
    tables: {},
  });
}

export const BACKUP_BY_KIND = {
  database: backupDatabase,
  config: backupConfig,
  files: backupFiles,
  base: backupBase,
  target: backupTarget,
  log: backupSqlServerLog,
} as const;

/** Takes the backups of the kinds asked for, one after the other, each reported to the job's Pushgateway. */
export async function runBackups(
  job: BackupJob,
  kinds: readonly (keyof typeof BACKUP_BY_KIND)[],
  options: Omit<BackupOptions, "now"> = {},
): Promise<BackupManifest[]> {
  const dest = jobDestination(job);
  try {
    const manifests: BackupManifest[] = [];
    for (const kind of kinds) {
      const manifest = await BACKUP_BY_KIND[kind](job, dest, options);
      if (job.backups.pushgateway) await pushBackupMetrics(job.backups.pushgateway, manifest);
      manifests.push(manifest);
    }
    return manifests;
  } finally {
    dest.client.destroy();
  }
}

/**
 * Pushes a backup's last success, size and duration to a Pushgateway, grouped by kind and stack, so that each
 * kind's job replaces only its own series. The samples carry no labels: the Pushgateway gives every sample of
 * a group the group's labels (job, kind and stack).
 */
export async function pushBackupMetrics(pushgateway: string, m: BackupManifest): Promise<void> {
  const body = [
    "# TYPE cdc_backup_last_success_timestamp_seconds gauge",
    `cdc_backup_last_success_timestamp_seconds ${Date.parse(m.takenAt) / 1000 + m.seconds}`,
    "# TYPE cdc_backup_size_bytes gauge",
    `cdc_backup_size_bytes ${m.size}`,
    "# TYPE cdc_backup_duration_seconds gauge",
    `cdc_backup_duration_seconds ${m.seconds}`,
    "",
  ].join("\n");
  const group = `/metrics/job/cdc_backup/kind/${encodeURIComponent(m.kind)}/stack/${encodeURIComponent(m.stack)}`;
  await axios.put(pushgateway.replace(/\/+$/, "") + group, body, {
    headers: { "Content-Type": "text/plain; version=0.0.4" },
    timeout: 10_000,
  });
}

// The T-SQL of SQL Server backups and restores (lib/sqlserver-backup.ts), statement by statement, against the
// recorded fake of the driver: quoting of hostile names, the STOPAT instant in UTC, the MOVE clauses a
// FILELISTONLY answer gives, the S3 secret kept out of the statements, and the input errors. No SQL Server runs
// here; test/integration/sqlserver-backup-live.test.ts runs the same functions against one (MSSQL_URL).
import { describe, expect, it } from "vitest";
import { normalLsn } from "../../lib/connector-lsn";
import { unicodeLiteral, type SqlClient } from "../../lib/sqlserver";
import {
  backupDatabaseToDisk,
  backupDatabaseToUrl,
  backupLogToDisk,
  backupLogToUrl,
  backupPosition,
  ensureS3Credential,
  lsnFromDecimal,
  restoreDatabaseFrom,
  s3ConnectorUrl,
  dropSqlServerDatabase,
  sqlServerDatabaseExists,
  takeSqlServerDatabaseOffline,
} from "../../lib/sqlserver-backup";
import { ReplayClient, type Exchange } from "../fakes/sql-recording";

/** Runs `work` against a recording and checks that every exchange was asked for. */
async function replayed<T>(exchanges: Exchange[], work: (client: ReplayClient) => Promise<T>, secrets?: string[]) {
  const client = new ReplayClient(exchanges, secrets);
  const result = await work(client);
  expect(client.unused).toEqual([]);
  return { result, client };
}

/** A client that must not be asked anything: the input is refused first. */
const untouched = () => new ReplayClient([]);

const logChain = (database: string, row: Record<string, unknown> | undefined): Exchange => ({
  sql:
    "SELECT d.recovery_model_desc, CONVERT(varchar(25), rs.last_log_backup_lsn) AS last_log_backup_lsn " +
    "FROM sys.databases d JOIN sys.database_recovery_status rs ON rs.database_id = d.database_id " +
    `WHERE d.name = ${database}`,
  rows: row ? [row] : [],
});
const fullChain = { recovery_model_desc: "FULL", last_log_backup_lsn: "34000000017600001" };

describe("unicodeLiteral", () => {
  it("quotes any text as an N'' literal, quotes doubled", () => {
    expect(unicodeLiteral("x'y")).toBe("N'x''y'");
    expect(unicodeLiteral("a]b")).toBe("N'a]b'");
    expect(unicodeLiteral("''")).toBe("N''''''");
    expect(unicodeLiteral("")).toBe("N''");
  });
});

describe("full backups", () => {
  it("to disk: COPY_ONLY, FORMAT, COMPRESSION and CHECKSUM, the name bracketed and the path quoted", async () => {
    const { client } = await replayed(
      [
        {
          sql: "BACKUP DATABASE [a]]b] TO DISK = N'/var/opt/mssql/backup/x''y.bak' WITH FORMAT, COMPRESSION, CHECKSUM, COPY_ONLY",
        },
      ],
      (c) => backupDatabaseToDisk(c, { database: "a]b", path: "/var/opt/mssql/backup/x'y.bak" }),
    );
    expect(client.sent[0].params).toEqual({});
  });

  it("to disk: a regular backup (copyOnly: false), uncompressed for Express (compression: false), on Windows", async () => {
    await replayed(
      [{ sql: "BACKUP DATABASE [inventory] TO DISK = N'C:\\Backups\\inventory.bak' WITH FORMAT, CHECKSUM" }],
      (c) =>
        backupDatabaseToDisk(c, {
          database: "inventory",
          path: "C:\\Backups\\inventory.bak",
          copyOnly: false,
          compression: false,
        }),
    );
  });

  it("to an S3 URL, with a credential named explicitly or without one (SQL Server picks it by the URL's prefix)", async () => {
    await replayed(
      [
        {
          sql: "BACKUP DATABASE [x'y] TO URL = N's3://minio.example.com:9000/backups/db/x''y.bak' WITH FORMAT, COMPRESSION, CHECKSUM, COPY_ONLY",
        },
        {
          sql:
            "BACKUP DATABASE [a]]b] TO URL = N's3://10.0.0.5/backups/a]b.bak' WITH FORMAT, COMPRESSION, CHECKSUM, COPY_ONLY, " +
            "CREDENTIAL = N'cred]''1'",
        },
      ],
      async (c) => {
        await backupDatabaseToUrl(c, { database: "x'y", url: "s3://minio.example.com:9000/backups/db/x'y.bak" });
        await backupDatabaseToUrl(c, {
          database: "a]b",
          url: "s3://10.0.0.5/backups/a]b.bak",
          credential: "cred]'1",
        });
      },
    );
  });
});

describe("log backups", () => {
  it("check the log chain first, then BACKUP LOG (COPY_ONLY by default)", async () => {
    await replayed(
      [
        logChain("N'a]b'", fullChain),
        { sql: "BACKUP LOG [a]]b] TO DISK = N'/backups/a]b.trn' WITH FORMAT, COMPRESSION, CHECKSUM, COPY_ONLY" },
        logChain("N'x''y'", fullChain),
        {
          sql: "BACKUP LOG [x'y] TO URL = N's3://minio.example.com:9000/backups/x''y.trn' WITH FORMAT, COMPRESSION, CHECKSUM",
        },
      ],
      async (c) => {
        await backupLogToDisk(c, { database: "a]b", path: "/backups/a]b.trn" });
        await backupLogToUrl(c, {
          database: "x'y",
          url: "s3://minio.example.com:9000/backups/x'y.trn",
          copyOnly: false,
        });
      },
    );
  });

  it("refuse, before BACKUP LOG, a missing database, the SIMPLE recovery model and a database with no log chain", async () => {
    const attempt = (row: Record<string, unknown> | undefined) =>
      replayed([logChain("N'inventory'", row)], (c) =>
        backupLogToDisk(c, { database: "inventory", path: "/backups/inventory.trn" }),
      );
    await expect(attempt(undefined)).rejects.toThrow("backupLogToDisk: database [inventory] does not exist");
    await expect(attempt({ recovery_model_desc: "SIMPLE", last_log_backup_lsn: null })).rejects.toThrow(
      /\[inventory\] is in the SIMPLE recovery model/,
    );
    // In FULL, with only COPY_ONLY full backups: last_log_backup_lsn is NULL.
    await expect(attempt({ recovery_model_desc: "FULL", last_log_backup_lsn: null })).rejects.toThrow(
      /has no log chain yet: no regular \(not COPY_ONLY\) full backup/,
    );
  });
});

describe("ensureS3Credential", () => {
  const keys = { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cr'et/Key+1" };
  const secret = `${keys.accessKeyId}:${keys.secretAccessKey}`;
  const statement = (name: string, bracketedInLiteral: string) =>
    `DECLARE @existed bit = CASE WHEN EXISTS (SELECT 1 FROM sys.credentials WHERE name = ${name}) THEN 1 ELSE 0 END; ` +
    `DECLARE @sql nvarchar(max) = CASE @existed WHEN 1 THEN ` +
    `N'ALTER CREDENTIAL ${bracketedInLiteral} WITH IDENTITY = N''S3 Access Key'', SECRET = ' ` +
    `ELSE N'CREATE CREDENTIAL ${bracketedInLiteral} WITH IDENTITY = N''S3 Access Key'', SECRET = ' END ` +
    "+ N'N''' + REPLACE(@secret, N'''', N'''''') + N''''; EXEC (@sql); SELECT @existed AS existed;";

  it("creates the credential, or alters it when it exists; the secret travels as a parameter, never in the text", async () => {
    const sql = statement("N's3://minio.example.com:9000/backups'", "[s3://minio.example.com:9000/backups]");
    const { result, client } = await replayed(
      [
        { sql, params: { secret: "[secret]" }, rows: [{ existed: false }] },
        { sql, params: { secret: "[secret]" }, rows: [{ existed: true }] },
      ],
      async (c) => [
        await ensureS3Credential(c, { urlPrefix: "s3://minio.example.com:9000/backups", ...keys }),
        await ensureS3Credential(c, { urlPrefix: "s3://minio.example.com:9000/backups", ...keys }),
      ],
      [secret],
    );
    expect(result).toEqual(["created", "altered"]);
    expect(client.sent.map((s) => s.params)).toEqual([{ secret }, { secret }]);
    for (const sent of client.sent) {
      expect(sent.sql).not.toContain(keys.secretAccessKey);
      expect(sent.sql).not.toContain(keys.accessKeyId);
    }
  });

  it("quotes a hostile prefix twice: bracketed in the dynamic statement, that statement quoted as a literal", async () => {
    await replayed(
      [
        {
          sql: statement("N's3://h/it''s]'", "[s3://h/it''s]]]"),
          params: { secret: "[secret]" },
          rows: [{ existed: 0 }],
        },
      ],
      (c) => ensureS3Credential(c, { urlPrefix: "s3://h/it's]", ...keys }),
      [secret],
    );
  });

  it("never reports the secret: a driver error has it replaced, and input errors do not quote values", async () => {
    const failing: SqlClient = {
      query: () => Promise.reject(new Error(`Incorrect syntax near '${keys.secretAccessKey}' in ${secret}`)),
    };
    const error = await ensureS3Credential(failing, { urlPrefix: "s3://h/b", ...keys }).catch((e: Error) => e);
    expect((error as Error).message).toBe("ensureS3Credential s3://h/b: Incorrect syntax near '[secret]' in [secret]");

    const colon = await ensureS3Credential(untouched(), {
      urlPrefix: "s3://h/b",
      accessKeyId: "AK:IA",
      secretAccessKey: "with:colon-Secret",
    }).catch((e: Error) => e);
    expect((colon as Error).message).toBe(
      "ensureS3Credential: accessKeyId: must not contain ':' (SQL Server reads the secret as <access key>:<secret key>); " +
        "secretAccessKey: must not contain ':' (SQL Server reads the secret as <access key>:<secret key>)",
    );
    expect((colon as Error).message).not.toContain("colon-Secret");
    await expect(ensureS3Credential(untouched(), { urlPrefix: "s3://h", ...keys })).rejects.toThrow(
      "ensureS3Credential: urlPrefix: must name a bucket",
    );
    await expect(
      ensureS3Credential(untouched(), { urlPrefix: "s3://h/b", accessKeyId: "AK", secretAccessKey: "" }),
    ).rejects.toThrow("ensureS3Credential: secretAccessKey: must not be empty");
  });
});

describe("s3ConnectorUrl", () => {
  it("turns an https:// endpoint, a bucket and a key into the connector's path-style s3:// URL", () => {
    expect(s3ConnectorUrl("https://minio.example.com:9000", "backups", "db/full.bak")).toBe(
      "s3://minio.example.com:9000/backups/db/full.bak",
    );
    expect(s3ConnectorUrl("https://s3.eu-west-1.amazonaws.com/", "my.backups")).toBe(
      "s3://s3.eu-west-1.amazonaws.com/my.backups",
    );
  });

  it("refuses what the connector cannot reach: plain HTTP, a path or credentials in the endpoint, a bad bucket", () => {
    expect(() => s3ConnectorUrl("http://minio:9000", "backups")).toThrow(
      "s3ConnectorUrl: endpoint: must be an https:// URL (SQL Server's S3 connector speaks only HTTPS)",
    );
    expect(() => s3ConnectorUrl("https://minio:9000/backups", "backups")).toThrow(/without a path/);
    expect(() => s3ConnectorUrl("https://user:pw@minio:9000", "backups")).toThrow(/without a path, query or user/);
    expect(() => s3ConnectorUrl("not a url", "backups")).toThrow("s3ConnectorUrl: endpoint: must be an https:// URL");
    expect(() => s3ConnectorUrl("https://minio", "Backups_1")).toThrow(/bucket: must be an S3 bucket name/);
    expect(() => s3ConnectorUrl("https://minio", "backups", "/full.bak")).toThrow(/key: must be an object key/);
  });
});

describe("backupPosition", () => {
  const query = (database: string, type: "D" | "L", device = "") =>
    "SELECT TOP (1) CONVERT(varchar(25), bs.first_lsn) AS first_lsn, CONVERT(varchar(25), bs.last_lsn) AS last_lsn, " +
    "CONVERT(varchar(25), bs.checkpoint_lsn) AS checkpoint_lsn, " +
    "CONVERT(varchar(25), bs.database_backup_lsn) AS database_backup_lsn, " +
    "CONVERT(varchar(23), DATEADD(minute, -CASE WHEN bs.time_zone BETWEEN -48 AND 48 THEN 15 * bs.time_zone " +
    "ELSE DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) END, bs.backup_finish_date), 126) AS finished_utc, " +
    "bs.is_copy_only, mf.physical_device_name AS device " +
    "FROM msdb.dbo.backupset bs JOIN msdb.dbo.backupmediafamily mf ON mf.media_set_id = bs.media_set_id " +
    `WHERE bs.database_name = ${database} AND bs.type = '${type}'${device} ORDER BY bs.backup_set_id DESC`;
  const row = {
    first_lsn: "34000000017600001",
    last_lsn: "34000000019200001",
    checkpoint_lsn: "34000000017600001",
    database_backup_lsn: "33000000008800037",
    finished_utc: "2026-03-01T12:34:56.787",
    is_copy_only: true,
    device: "/var/opt/mssql/backup/full.bak",
  };

  it("reads the latest full backup's LSNs as text (numeric(25,0) does not fit a number) and its UTC finish", async () => {
    const { result } = await replayed([{ sql: query("N'x''y'", "D"), rows: [row] }], (c) => backupPosition(c, "x'y"));
    expect(result).toEqual({
      type: "database",
      firstLsn: "34000000017600001",
      lastLsn: "34000000019200001",
      checkpointLsn: "34000000017600001",
      databaseBackupLsn: "33000000008800037",
      finishedAt: new Date("2026-03-01T12:34:56.787Z"),
      copyOnly: true,
      device: "/var/opt/mssql/backup/full.bak",
    });
  });

  it("of a log backup written to a given device; a time without milliseconds (style 126 leaves them out)", async () => {
    const { result } = await replayed(
      [
        {
          sql: query("N'a]b'", "L", " AND mf.physical_device_name = N'/backups/x''y.trn'"),
          rows: [{ ...row, finished_utc: "2026-03-01T12:00:00", is_copy_only: 0, device: "/backups/x'y.trn" }],
        },
      ],
      (c) => backupPosition(c, "a]b", { type: "log", device: "/backups/x'y.trn" }),
    );
    expect(result).toMatchObject({ type: "log", copyOnly: false, finishedAt: new Date("2026-03-01T12:00:00Z") });
  });

  it("fails when msdb has no such backup, and refuses a bad type", async () => {
    await expect(
      replayed([{ sql: query("N'inventory'", "D"), rows: [] }], (c) => backupPosition(c, "inventory")),
    ).rejects.toThrow("backupPosition: msdb.dbo.backupset has no full backup of [inventory]");
    await expect(backupPosition(untouched(), "inventory", { type: "diff" as "log" })).rejects.toThrow(
      "backupPosition: type: must be 'database' or 'log'",
    );
  });

  it("gives an LSN in Debezium's form (lib/connector-lsn.ts normalLsn)", () => {
    expect(lsnFromDecimal("34000000017600001")).toBe("00000022000000b00001");
    expect(lsnFromDecimal("34000000017600001")).toBe(normalLsn("00000022:000000b0:0001"));
    expect(lsnFromDecimal("0")).toBe("00000000000000000000");
    expect(() => lsnFromDecimal("0x22")).toThrow("lsnFromDecimal: not a decimal LSN: '0x22'");
  });
});

describe("restoreDatabaseFrom", () => {
  const fileList = (from: string, credential = ""): Exchange => ({
    sql: `RESTORE FILELISTONLY FROM ${from}${credential}`,
    rows: [
      { LogicalName: "x'y", PhysicalName: "/var/opt/mssql/data/x'y.mdf", Type: "D", FileID: "1" },
      { LogicalName: "x'y_log", PhysicalName: "/var/opt/mssql/data/x'y_log.ldf", Type: "L", FileID: "2" },
      { LogicalName: "more", PhysicalName: "/var/opt/mssql/data/more.ndf", Type: "D", FileID: "3" },
    ],
  });
  const defaultDirs: Exchange = {
    sql:
      "SELECT CONVERT(nvarchar(260), SERVERPROPERTY('InstanceDefaultDataPath')) AS data_dir, " +
      "CONVERT(nvarchar(260), SERVERPROPERTY('InstanceDefaultLogPath')) AS log_dir",
    rows: [{ data_dir: "/var/opt/mssql/data/", log_dir: "/var/opt/mssql/log" }],
  };
  // 13:34:56.789 at UTC+1 is 12:34:56.789 UTC: the literal is always UTC, moved to the server's offset there.
  const stopAt = new Date("2026-03-01T13:34:56.789+01:00");
  const declaration =
    "DECLARE @stopat datetime = CONVERT(datetime, SWITCHOFFSET(CONVERT(datetimeoffset(3), " +
    "N'2026-03-01T12:34:56.789+00:00'), DATEPART(TZOFFSET, SYSDATETIMEOFFSET())));";
  const moves =
    "MOVE N'x''y' TO N'/var/opt/mssql/data/a_b.mdf', MOVE N'x''y_log' TO N'/var/opt/mssql/log/a_b_log.ldf', " +
    "MOVE N'more' TO N'/var/opt/mssql/data/a_b_3.ndf'";
  const state = (desc: string): Exchange => ({
    sql: "SELECT state_desc FROM sys.databases WHERE name = N'a]b'",
    rows: [{ state_desc: desc }],
  });
  const disk = (file: string) => `DISK = N'/var/opt/mssql/backup/${file}'`;

  it("to a point in time: MOVE from FILELISTONLY to the default directories, STOPAT in UTC, logs until the one that holds it", async () => {
    const { result } = await replayed(
      [
        fileList(disk("full.bak")),
        defaultDirs,
        {
          sql: `${declaration} RESTORE DATABASE [a]]b] FROM ${disk("full.bak")} WITH ${moves}, STOPAT = @stopat, NORECOVERY`,
        },
        { sql: `${declaration} RESTORE LOG [a]]b] FROM ${disk("log1.trn")} WITH STOPAT = @stopat, RECOVERY` },
        // The first log ends before the point: the database stays restoring.
        state("RESTORING"),
        { sql: `${declaration} RESTORE LOG [a]]b] FROM ${disk("log2.trn")} WITH STOPAT = @stopat, RECOVERY` },
        // The second holds it: recovered there, and the third is not needed.
        state("ONLINE"),
      ],
      (c) =>
        restoreDatabaseFrom(c, {
          database: "a]b",
          from: { disk: "/var/opt/mssql/backup/full.bak" },
          logBackups: [
            { disk: "/var/opt/mssql/backup/log1.trn" },
            { disk: "/var/opt/mssql/backup/log2.trn" },
            { disk: "/var/opt/mssql/backup/log3.trn" },
          ],
          stopAt,
        }),
    );
    expect(result).toEqual({
      database: "a]b",
      files: [
        { logicalName: "x'y", type: "D", physicalName: "/var/opt/mssql/data/a_b.mdf" },
        { logicalName: "x'y_log", type: "L", physicalName: "/var/opt/mssql/log/a_b_log.ldf" },
        { logicalName: "more", type: "D", physicalName: "/var/opt/mssql/data/a_b_3.ndf" },
      ],
      logsApplied: 2,
      stoppedInLog: 1,
    });
  });

  it("to a point after the last log: every log applied, then RESTORE WITH RECOVERY at their end", async () => {
    const { result } = await replayed(
      [
        fileList(disk("full.bak")),
        defaultDirs,
        {
          sql: `${declaration} RESTORE DATABASE [a]]b] FROM ${disk("full.bak")} WITH ${moves}, STOPAT = @stopat, NORECOVERY`,
        },
        { sql: `${declaration} RESTORE LOG [a]]b] FROM ${disk("log1.trn")} WITH STOPAT = @stopat, RECOVERY` },
        state("RESTORING"),
        { sql: "RESTORE DATABASE [a]]b] WITH RECOVERY" },
      ],
      (c) =>
        restoreDatabaseFrom(c, {
          database: "a]b",
          from: { disk: "/var/opt/mssql/backup/full.bak" },
          logBackups: [{ disk: "/var/opt/mssql/backup/log1.trn" }],
          stopAt,
        }),
    );
    expect(result).toMatchObject({ logsApplied: 1, stoppedInLog: null });
  });

  it("from S3 without stopAt: given directories (Windows), REPLACE when asked, logs WITH NORECOVERY, then RECOVERY", async () => {
    const url = (key: string) => `URL = N's3://minio.example.com:9000/backups/${key}'`;
    const credential = ", CREDENTIAL = N'backups'";
    const { result } = await replayed(
      [
        fileList(url("full.bak"), " WITH CREDENTIAL = N'backups'"),
        {
          sql:
            `RESTORE DATABASE [inventory_dr] FROM ${url("full.bak")} WITH MOVE N'x''y' TO N'D:\\Data\\inventory_dr.mdf', ` +
            "MOVE N'x''y_log' TO N'L:\\Logs\\inventory_dr_log.ldf', MOVE N'more' TO N'D:\\Data\\inventory_dr_3.ndf', " +
            `REPLACE, NORECOVERY${credential}`,
        },
        { sql: `RESTORE LOG [inventory_dr] FROM ${url("log1.trn")} WITH NORECOVERY${credential}` },
        { sql: `RESTORE LOG [inventory_dr] FROM ${url("log2.trn")} WITH NORECOVERY${credential}` },
        { sql: "RESTORE DATABASE [inventory_dr] WITH RECOVERY" },
      ],
      (c) =>
        restoreDatabaseFrom(c, {
          database: "inventory_dr",
          from: { url: "s3://minio.example.com:9000/backups/full.bak" },
          logBackups: [
            { url: "s3://minio.example.com:9000/backups/log1.trn" },
            { url: "s3://minio.example.com:9000/backups/log2.trn" },
          ],
          moveTo: { dataDir: "D:\\Data", logDir: "L:\\Logs\\" },
          replace: true,
          credential: "backups",
        }),
    );
    expect(result).toMatchObject({ logsApplied: 2, stoppedInLog: null });
  });

  it("a full backup alone: WITH RECOVERY; explicit paths per logical file; one directory given, the other the server's", async () => {
    await replayed(
      [
        fileList(disk("full.bak")),
        {
          sql:
            `RESTORE DATABASE [copy] FROM ${disk("full.bak")} WITH MOVE N'x''y' TO N'/data/x''y.mdf', ` +
            "MOVE N'x''y_log' TO N'/logs/x''y.ldf', MOVE N'more' TO N'/data/more.ndf', RECOVERY",
        },
        fileList(disk("full.bak")),
        defaultDirs,
        {
          sql:
            `RESTORE DATABASE [copy] FROM ${disk("full.bak")} WITH MOVE N'x''y' TO N'/srv/data/copy.mdf', ` +
            "MOVE N'x''y_log' TO N'/var/opt/mssql/log/copy_log.ldf', MOVE N'more' TO N'/srv/data/copy_3.ndf', RECOVERY",
        },
      ],
      async (c) => {
        await restoreDatabaseFrom(c, {
          database: "copy",
          from: { disk: "/var/opt/mssql/backup/full.bak" },
          moveTo: { files: { "x'y": "/data/x'y.mdf", "x'y_log": "/logs/x'y.ldf", more: "/data/more.ndf" } },
        });
        await restoreDatabaseFrom(c, {
          database: "copy",
          from: { disk: "/var/opt/mssql/backup/full.bak" },
          moveTo: { dataDir: "/srv/data" },
        });
      },
    );
  });

  it("refuses explicit paths that miss a file of the backup or name one it does not hold, before any RESTORE", async () => {
    await expect(
      replayed([fileList(disk("full.bak"))], (c) =>
        restoreDatabaseFrom(c, {
          database: "copy",
          from: { disk: "/var/opt/mssql/backup/full.bak" },
          moveTo: { files: { "x'y": "/data/x.mdf", extra: "/data/extra.ndf" } },
        }),
      ),
    ).rejects.toThrow(
      "restoreDatabaseFrom: moveTo.files: no path for 'x'y_log', 'more'; 'extra' is no file of the backup " +
        "(the backup holds 'x'y', 'x'y_log', 'more')",
    );
  });

  it("refuses bad inputs with errors naming the field, before asking the server anything", async () => {
    const base = { database: "copy", from: { disk: "/var/opt/mssql/backup/full.bak" } };
    const refused = (options: Record<string, unknown>) => restoreDatabaseFrom(untouched(), { ...base, ...options });
    await expect(refused({ stopAt })).rejects.toThrow(
      "restoreDatabaseFrom: stopAt: needs logBackups: a point in time is restored from the log backups that follow the full one",
    );
    await expect(refused({ stopAt: new Date("not a date"), logBackups: [{ disk: "/b/l.trn" }] })).rejects.toThrow(
      "restoreDatabaseFrom: stopAt: must be a valid Date",
    );
    await expect(refused({ from: { disk: "/b/f.bak", url: "s3://h/b/f.bak" } })).rejects.toThrow(
      "restoreDatabaseFrom: from: must name either url (an s3:// URL) or disk (an absolute path), and only one",
    );
    await expect(refused({ from: { url: "https://h/b/f.bak" } })).rejects.toThrow(
      "restoreDatabaseFrom: from.url: must be an s3:// URL (s3://<endpoint>[:port]/<bucket>/<key>), not http(s)://",
    );
    await expect(refused({ logBackups: [{ disk: "/b/1.trn" }, { disk: "backups/2.trn" }] })).rejects.toThrow(
      "restoreDatabaseFrom: logBackups[1].disk: must be an absolute path on the SQL Server's host",
    );
    await expect(refused({ database: "MSDB" })).rejects.toThrow(
      "restoreDatabaseFrom: database: must not be a system database",
    );
    await expect(refused({ moveTo: { files: {}, dataDir: "/d" } })).rejects.toThrow(
      "restoreDatabaseFrom: moveTo: must give either files, or dataDir and/or logDir, not both",
    );
    await expect(refused({ moveTo: { dataDir: "data" } })).rejects.toThrow(
      "restoreDatabaseFrom: moveTo.dataDir: must be an absolute directory",
    );
    await expect(refused({ keepCdc: true })).rejects.toThrow('restoreDatabaseFrom: Unrecognized key: "keepCdc"');
  });
});

describe("backup inputs", () => {
  it("refuse a bad database name, path or URL with errors naming the field, before asking the server anything", async () => {
    await expect(backupDatabaseToDisk(untouched(), { database: "", path: "/b/x.bak" })).rejects.toThrow(
      "backupDatabaseToDisk: database: must be a name of 1 to 128 characters",
    );
    await expect(backupDatabaseToDisk(untouched(), { database: "x".repeat(129), path: "/b/x.bak" })).rejects.toThrow(
      "backupDatabaseToDisk: database: must be a name of 1 to 128 characters",
    );
    await expect(backupDatabaseToDisk(untouched(), { database: "db", path: "backups/x.bak" })).rejects.toThrow(
      "backupDatabaseToDisk: path: must be an absolute path on the SQL Server's host (/var/opt/mssql/backup/..., C:\\Backups\\...)",
    );
    await expect(backupDatabaseToDisk(untouched(), { database: "db", path: "/b/x\n.bak" })).rejects.toThrow(
      "backupDatabaseToDisk: path: must not contain control characters",
    );
    await expect(backupDatabaseToDisk(untouched(), { database: "db", path: `/${"b".repeat(259)}` })).rejects.toThrow(
      "backupDatabaseToDisk: path: must be at most 259 characters",
    );
    await expect(
      backupLogToDisk(untouched(), { database: "db", path: "/b/x.trn", copyOnly: "yes" as never }),
    ).rejects.toThrow("backupLogToDisk: copyOnly: must be true or false");
    const url = (u: string) => backupDatabaseToUrl(untouched(), { database: "db", url: u });
    await expect(url("https://minio:9000/backups/x.bak")).rejects.toThrow(
      "backupDatabaseToUrl: url: must be an s3:// URL (s3://<endpoint>[:port]/<bucket>/<key>), not http(s)://",
    );
    await expect(url("s3://minio:9000/backups/")).rejects.toThrow("backupDatabaseToUrl: url: must name an object");
    await expect(url("s3://minio:9000")).rejects.toThrow("backupDatabaseToUrl: url: must name an object");
    await expect(url("s3://minio:70000/b/x.bak")).rejects.toThrow("backupDatabaseToUrl: url: has port 70000");
    await expect(url("s3://minio/b/x.bak?versionId=1")).rejects.toThrow(
      "backupDatabaseToUrl: url: must be an s3:// URL",
    );
    await expect(url("s3://minio/b//x.bak")).rejects.toThrow(
      "backupDatabaseToUrl: url: must not have an empty path segment",
    );
    await expect(url(`s3://minio/b/${"k".repeat(250)}`)).rejects.toThrow(
      "backupDatabaseToUrl: url: must be at most 259 characters",
    );
    await expect(
      backupLogToUrl(untouched(), { database: "db", url: "s3://m/b/x.trn", credential: "" }),
    ).rejects.toThrow("backupLogToUrl: credential: must be a name of 1 to 128 characters");
  });
});

describe("database housekeeping for restores", () => {
  it("asks whether a database exists by name, quoted", async () => {
    const { result } = await replayed(
      [{ sql: "SELECT name FROM sys.databases WHERE name = N'x''y'", rows: [{ name: "x'y" }] }],
      (c) => sqlServerDatabaseExists(c, "x'y"),
    );
    expect(result).toBe(true);
    const none = await replayed([{ sql: "SELECT name FROM sys.databases WHERE name = N'gone'", rows: [] }], (c) =>
      sqlServerDatabaseExists(c, "gone"),
    );
    expect(none.result).toBe(false);
  });

  it("drops a database only when it exists, its sessions rolled back first when it is online", async () => {
    await replayed(
      [
        {
          sql:
            "IF DB_ID(N'a]''b') IS NOT NULL BEGIN IF DATABASEPROPERTYEX(N'a]''b', 'Status') = 'ONLINE' " +
            "ALTER DATABASE [a]]'b] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [a]]'b]; END",
        },
      ],
      (c) => dropSqlServerDatabase(c, "a]'b"),
    );
  });

  it("takes a database offline, its sessions rolled back, so that RESTORE ... REPLACE gets it", async () => {
    await replayed(
      [{ sql: "IF DB_ID(N'shop') IS NOT NULL ALTER DATABASE [shop] SET OFFLINE WITH ROLLBACK IMMEDIATE" }],
      (c) => takeSqlServerDatabaseOffline(c, "shop"),
    );
    await expect(takeSqlServerDatabaseOffline(untouched(), "")).rejects.toThrow(
      "takeSqlServerDatabaseOffline: database: must be a name of 1 to 128 characters",
    );
  });
});

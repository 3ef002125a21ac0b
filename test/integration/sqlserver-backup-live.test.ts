// SQL Server backups and restores (lib/sqlserver-backup.ts) against a real server, for machines that have one
// (GitHub Actions runs it: .github/workflows/sqlserver-live.yml). Set
//   MSSQL_URL='mssql://sa:<password>@127.0.0.1:1433/master?trustServerCertificate=true'
// (SQL Server 2019+; the database in the URL is not used: the test creates a scratch database of its own, with
// a name that needs quoting, restores it under new names, and drops them all at the end). Backup files are
// written on the server's host in MSSQL_BACKUP_DIR (default /var/opt/mssql/backup: for a server in a
// container, the container's file system; the test asks the server to create it, and deletes its files).
// Where the server can reach an S3-compatible store over HTTPS (SQL Server 2022, not Express; on Linux the
// store's CA in /var/opt/mssql/security/ca-certificates when the server starts), also set
//   MSSQL_S3_URL='https://<endpoint>[:port]/<bucket>[/<folder>]' MSSQL_S3_ACCESS_KEY=... MSSQL_S3_SECRET=...
// (MSSQL_S3_REGION if not us-east-1, for deleting the objects afterwards) and the same backups go TO URL and
// come back FROM URL. Skipped without MSSQL_URL.
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bracketed, withSqlServer, type SqlClient, type SqlParam, type SqlServerConnection } from "../../lib/sqlserver";
import {
  backupDatabaseToDisk,
  backupDatabaseToUrl,
  backupLogToDisk,
  backupLogToUrl,
  backupPosition,
  dropSqlServerDatabase,
  ensureS3Credential,
  restoreDatabaseFrom,
  s3ConnectorUrl,
  sqlServerDatabaseExists,
  takeSqlServerDatabaseOffline,
} from "../../lib/sqlserver-backup";
import { createDatabaseIfMissing } from "../../lib/sqlserver-cdc-sql";
import { mssqlConnection } from "../harness";

const url = process.env.MSSQL_URL;
const s3 = {
  url: process.env.MSSQL_S3_URL,
  accessKeyId: process.env.MSSQL_S3_ACCESS_KEY,
  secretAccessKey: process.env.MSSQL_S3_SECRET,
};
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!url)(
  "SQL Server backups and restores against a live SQL Server (skipped: set MSSQL_URL to run it)",
  () => {
    const server = url ? mssqlConnection(url) : ({} as SqlServerConnection);
    const master = { ...server, database: "master" };
    // A name with a quote and a bracket: every statement quotes it.
    const database = `cdc_backup_${run}_x'y]z`;
    const restoredNames: string[] = [];
    const dir = (process.env.MSSQL_BACKUP_DIR ?? "/var/opt/mssql/backup").replace(/\/+$/, "");
    const written: string[] = [];
    /** A backup file of this run in the backup directory (with a quote in its name, as the database's). */
    const file = (name: string) => {
      const path = `${dir}/cdc_backup_${run}_x'y_${name}`;
      written.push(path);
      return path;
    };
    const objects: string[] = [];

    const onMaster = <T>(work: (client: SqlClient) => Promise<T>) => withSqlServer(master, work);
    const sql = <T = Record<string, unknown>>(text: string, params: Record<string, SqlParam> = {}) =>
      onMaster((client) => client.query<T>(text, params));
    const insert = (...ids: number[]) =>
      sql(
        `INSERT INTO ${bracketed(database)}.dbo.events (id, note) VALUES ${ids.map((id) => `(${id}, N'row ${id}')`).join(", ")}`,
      );
    const ids = async (db: string) =>
      (await sql<{ id: number }>(`SELECT id FROM ${bracketed(db)}.dbo.events ORDER BY id`)).map((r) => r.id);
    /** The server's clock, in UTC (the client's may be off). */
    const serverNow = async () => {
      const [row] = await sql<{ now: string }>("SELECT CONVERT(varchar(23), SYSUTCDATETIME(), 126) AS now");
      return new Date(`${row.now}Z`);
    };
    /** Where the next regular log backup starts: NULL until a regular full backup starts the chain. */
    const logArchivePoint = async () =>
      (
        await sql<{ lsn: string | null }>(
          "SELECT CONVERT(varchar(25), last_log_backup_lsn) AS lsn FROM sys.database_recovery_status WHERE database_id = DB_ID(@database)",
          { database },
        )
      )[0]?.lsn ?? null;
    /** The base of the next differential backup of the primary data file. */
    const differentialBase = async () =>
      (
        await sql<{ lsn: string | null }>(
          "SELECT CONVERT(varchar(25), differential_base_lsn) AS lsn FROM sys.master_files WHERE database_id = DB_ID(@database) AND file_id = 1",
          { database },
        )
      )[0]?.lsn ?? null;
    const restoredName = (suffix: string) => {
      const name = `${database}_${suffix}`;
      restoredNames.push(name);
      return name;
    };

    beforeAll(async () => {
      // Best effort: the directory may exist already, or be one the server cannot create (then BACKUP says so).
      // Extended procedures take no nvarchar(max), which the driver's parameters are.
      await sql("DECLARE @d nvarchar(4000) = @dir; EXEC master.sys.xp_create_subdir @d;", { dir }).catch((err: Error) =>
        console.warn(`xp_create_subdir ${dir}: ${err.message}`),
      );
      await onMaster((client) => createDatabaseIfMissing(client, database));
      await sql(`ALTER DATABASE ${bracketed(database)} SET RECOVERY FULL`);
      await sql(`CREATE TABLE ${bracketed(database)}.dbo.events (id int PRIMARY KEY, note nvarchar(50) NOT NULL)`);
      await insert(1, 2);
    }, 120_000);

    afterAll(async () => {
      const problems: string[] = [];
      for (const db of [...restoredNames, database]) {
        // A database left restoring by a failed step cannot be set to SINGLE_USER, but can be dropped.
        await sql(
          `DECLARE @sql nvarchar(max) = N'';
         IF DB_ID(@db) IS NOT NULL
         BEGIN
           IF DATABASEPROPERTYEX(@db, 'Status') = 'ONLINE'
             SET @sql = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET SINGLE_USER WITH ROLLBACK IMMEDIATE; ';
           SET @sql = @sql + N'DROP DATABASE ' + QUOTENAME(@db) + N';';
         END
         EXEC (@sql);
         EXEC msdb.dbo.sp_delete_database_backuphistory @database_name = @db;`,
          { db },
        ).catch((err: Error) => problems.push(`drop ${db}: ${err.message}`));
      }
      // The backup files (undocumented procedure: best effort, a leftover file is reported, not a failure).
      for (const path of written) {
        await sql("DECLARE @p nvarchar(4000) = @path; EXEC master.dbo.xp_delete_file 0, @p;", { path }).catch(
          (err: Error) => console.warn(`backup file left on the server: ${path}: ${err.message}`),
        );
      }
      if (objects.length > 0 && s3.url && s3.accessKeyId && s3.secretAccessKey) {
        const endpoint = new URL(s3.url);
        const client = new S3Client({
          endpoint: endpoint.origin,
          region: process.env.MSSQL_S3_REGION ?? "us-east-1",
          forcePathStyle: true,
          credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        });
        const bucket = endpoint.pathname.split("/").filter(Boolean)[0];
        for (const object of objects) {
          const key = object.slice(s3ConnectorUrl(endpoint.origin, bucket).length + 1);
          await client
            .send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
            .catch((err: Error) => console.warn(`object left in the bucket: ${object}: ${err.message}`));
        }
      }
      expect(problems).toEqual([]);
    }, 300_000);

    it("to disk: COPY_ONLY full and log backups that leave the database's own backup sequence alone, restored under new names to a point between two writes, to the end of the logs, and the full one alone", async () => {
      // A COPY_ONLY full backup does not start a log chain: log backups are refused until a regular one exists.
      await onMaster((client) => backupDatabaseToDisk(client, { database, path: file("early.bak") }));
      expect(await logArchivePoint()).toBeNull();
      await expect(
        onMaster((client) => backupLogToDisk(client, { database, path: file("refused.trn") })),
      ).rejects.toThrow(/has no log chain yet/);

      // The regular full backup the runbooks' own jobs take: it starts the chain and sets the differential base.
      await onMaster((client) => backupDatabaseToDisk(client, { database, path: file("base.bak"), copyOnly: false }));
      const base = await differentialBase();
      const archivePoint = await logArchivePoint();
      expect(archivePoint).not.toBeNull();

      // Ours: COPY_ONLY, so the runbooks' next differential is still based on their full backup.
      const fullPath = file("full.bak");
      await onMaster((client) => backupDatabaseToDisk(client, { database, path: fullPath }));
      expect(await differentialBase()).toBe(base);
      const full = await onMaster((client) => backupPosition(client, database, { device: fullPath }));
      expect(full).toMatchObject({ type: "database", copyOnly: true, device: fullPath });
      expect(BigInt(full.lastLsn) > BigInt(full.firstLsn)).toBe(true);
      expect(Math.abs(full.finishedAt.getTime() - (await serverNow()).getTime())).toBeLessThan(120_000);

      await insert(3, 4);
      const log1Path = file("log1.trn");
      await onMaster((client) => backupLogToDisk(client, { database, path: log1Path }));
      const log1 = await onMaster((client) => backupPosition(client, database, { type: "log", device: log1Path }));
      await sleep(1500);
      const between = await serverNow();
      await sleep(1500);
      await insert(5, 6);
      const log2Path = file("log2.trn");
      await onMaster((client) => backupLogToDisk(client, { database, path: log2Path }));
      const log2 = await onMaster((client) => backupPosition(client, database, { type: "log", device: log2Path }));

      // COPY_ONLY log backups keep the log archive point: the runbooks' next log backup starts where theirs
      // ended, and each of ours holds the log from there.
      expect(await logArchivePoint()).toBe(archivePoint);
      expect(log1).toMatchObject({ type: "log", copyOnly: true });
      expect.soft(log2.firstLsn).toBe(log1.firstLsn);
      expect(BigInt(log2.lastLsn) > BigInt(log1.lastLsn)).toBe(true);
      expect(log1.finishedAt.getTime()).toBeLessThan(between.getTime());

      // To the point between the writes: the first log ends before it, the second holds it.
      const pit = restoredName("pit");
      const atPoint = await onMaster((client) =>
        restoreDatabaseFrom(client, {
          database: pit,
          from: { disk: fullPath },
          logBackups: [{ disk: log1Path }, { disk: log2Path }],
          stopAt: between,
        }),
      );
      expect(atPoint).toMatchObject({ logsApplied: 2, stoppedInLog: 1 });
      expect(await ids(pit)).toEqual([1, 2, 3, 4]);
      // In the server's default directories, named after the new database (never over the original's files).
      const placed = await sql<{ physical_name: string }>(
        "SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID(@pit) ORDER BY file_id",
        { pit },
      );
      expect(placed.map((f) => f.physical_name)).toEqual(atPoint.files.map((f) => f.physicalName));
      expect(atPoint.files.map((f) => f.type)).toEqual(["D", "L"]);
      const [cdc] = await sql<{ is_cdc_enabled: boolean; state_desc: string }>(
        "SELECT is_cdc_enabled, state_desc FROM sys.databases WHERE name = @pit",
        { pit },
      );
      expect(cdc).toEqual({ is_cdc_enabled: false, state_desc: "ONLINE" });

      // To the end of the logs: the latest COPY_ONLY log backup alone holds everything since the archive point.
      const end = restoredName("end");
      const atEnd = await onMaster((client) =>
        restoreDatabaseFrom(client, { database: end, from: { disk: fullPath }, logBackups: [{ disk: log2Path }] }),
      );
      expect(atEnd).toMatchObject({ logsApplied: 1, stoppedInLog: null });
      expect(await ids(end)).toEqual([1, 2, 3, 4, 5, 6]);

      // A point after the last log: recovered at the end of the logs, and told so.
      const later = restoredName("later");
      const inAMinute = new Date((await serverNow()).getTime() + 60_000);
      const afterLogs = await onMaster((client) =>
        restoreDatabaseFrom(client, {
          database: later,
          from: { disk: fullPath },
          logBackups: [{ disk: log1Path }],
          stopAt: inAMinute,
        }),
      );
      expect(afterLogs).toMatchObject({ logsApplied: 1, stoppedInLog: null });
      expect(await ids(later)).toEqual([1, 2, 3, 4]);

      // The full backup alone, into given directories.
      const only = restoredName("full");
      const [dirs] = await sql<{ data: string; log: string }>(
        `SELECT CONVERT(nvarchar(260), SERVERPROPERTY('InstanceDefaultDataPath')) AS data,
              CONVERT(nvarchar(260), SERVERPROPERTY('InstanceDefaultLogPath')) AS log`,
      );
      await onMaster((client) =>
        restoreDatabaseFrom(client, {
          database: only,
          from: { disk: fullPath },
          moveTo: { dataDir: dirs.data, logDir: dirs.log },
        }),
      );
      expect(await ids(only)).toEqual([1, 2]);
      // Restoring over an existing database needs replace: true.
      await expect(
        onMaster((client) => restoreDatabaseFrom(client, { database: only, from: { disk: fullPath } })),
      ).rejects.toThrow(/other than the existing|cannot be overwritten/);
      await onMaster((client) =>
        restoreDatabaseFrom(client, { database: only, from: { disk: fullPath }, replace: true }),
      );
      expect(await ids(only)).toEqual([1, 2]);
      // As `restore --replace` does it: a session holding the database is rolled back by taking it offline,
      // and RESTORE ... REPLACE brings it online again; then it is dropped, and dropping it again is no error.
      await withSqlServer({ ...server, database: only }, async (holder) => {
        await holder.query("SELECT 1 AS held");
        await onMaster((client) => takeSqlServerDatabaseOffline(client, only));
      });
      await onMaster((client) =>
        restoreDatabaseFrom(client, { database: only, from: { disk: fullPath }, replace: true }),
      );
      expect(await ids(only)).toEqual([1, 2]);
      expect(await onMaster((client) => sqlServerDatabaseExists(client, only))).toBe(true);
      await onMaster((client) => dropSqlServerDatabase(client, only));
      await onMaster((client) => dropSqlServerDatabase(client, only));
      expect(await onMaster((client) => sqlServerDatabaseExists(client, only))).toBe(false);

      // A regular log backup (copyOnly: false, for a database whose backups this project owns) moves the point.
      const ownPath = file("own.trn");
      await onMaster((client) => backupLogToDisk(client, { database, path: ownPath, copyOnly: false }));
      expect(await logArchivePoint()).not.toBe(archivePoint);
      expect(
        (await onMaster((client) => backupPosition(client, database, { type: "log", device: ownPath }))).copyOnly,
      ).toBe(false);
    }, 600_000);

    it.skipIf(!s3.url || !s3.accessKeyId || !s3.secretAccessKey)(
      "to S3 (SQL Server 2022's connector): the credential made idempotently, full and log backups TO URL, restored FROM URL (skipped: set MSSQL_S3_URL, MSSQL_S3_ACCESS_KEY and MSSQL_S3_SECRET)",
      async () => {
        const endpoint = new URL(s3.url!);
        const [bucket, ...folder] = endpoint.pathname.split("/").filter(Boolean);
        const prefix = s3ConnectorUrl(endpoint.origin, bucket);
        const object = (name: string) => {
          const key = [...folder, "cdc-pipeline-live", run, name].join("/");
          const at = s3ConnectorUrl(endpoint.origin, bucket, key);
          objects.push(at);
          return at;
        };
        const keys = { urlPrefix: prefix, accessKeyId: s3.accessKeyId!, secretAccessKey: s3.secretAccessKey! };
        const first = await onMaster((client) => ensureS3Credential(client, keys));
        try {
          expect(await onMaster((client) => ensureS3Credential(client, keys))).toBe("altered");
          // A log chain for the log backups, if the disk test did not leave one.
          if ((await logArchivePoint()) === null) {
            await onMaster((client) =>
              backupDatabaseToUrl(client, { database, url: object("base.bak"), copyOnly: false }),
            );
          }
          const fullUrl = object("full.bak");
          await onMaster((client) => backupDatabaseToUrl(client, { database, url: fullUrl }));
          const full = await onMaster((client) => backupPosition(client, database, { device: fullUrl }));
          expect(full).toMatchObject({ copyOnly: true, device: fullUrl });
          const before = await ids(database);
          await insert(101, 102);
          const logUrl = object("log.trn");
          await onMaster((client) => backupLogToUrl(client, { database, url: logUrl }));

          const fromS3 = restoredName("s3");
          await onMaster((client) =>
            restoreDatabaseFrom(client, { database: fromS3, from: { url: fullUrl }, logBackups: [{ url: logUrl }] }),
          );
          expect(await ids(fromS3)).toEqual([...before, 101, 102]);
        } finally {
          if (first === "created") await sql(`DROP CREDENTIAL ${bracketed(prefix)}`);
        }
      },
      600_000,
    );
  },
);

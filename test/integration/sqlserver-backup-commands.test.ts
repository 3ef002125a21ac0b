// The backup commands with a SQL Server source, against the harness's S3 server (moto) and a SCRIPTED STAND-IN
// for SQL Server (no SQL Server runs here): the stand-in answers BACKUP by writing a file into the directory it
// shares with this host, msdb's backupset with the LSNs of its script, RESTORE by checking that the file it is
// told to read is there and holds what was uploaded. What is real: the objects, manifests and their checks in
// the bucket, the directories, the choice of a point-in-time chain, the refusals, `rpo` of the log kind and
// `verify` of the restored copy. The T-SQL of each statement is pinned by test/unit/sqlserver-backup.test.ts
// and run against a real server by test/integration/sqlserver-backup-live.test.ts (MSSQL_URL).
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupIntegrityError, listSqlServerLogs, type BackupManifest } from "../../lib/backup-objects";
import { bracketed, withSqlServer, type SqlClient } from "../../lib/sqlserver";
import { backupDatabaseToDisk, dropSqlServerDatabase } from "../../lib/sqlserver-backup";
import {
  backupDatabase,
  backupSqlServerLog,
  parseBackupJob,
  sqlServerSessions,
  type BackupDestination,
  type SqlServerSession,
} from "../../ops/backup";
import { verifyBackup, type RestoreServer } from "../../ops/restore";
import { runSchedule } from "../../ops/backup-schedule";
import { checkRpo } from "../../ops/rpo";
import { restoreSqlServerBackup, sqlServerPointInTime } from "../../ops/sqlserver-restore";
import type { StackSite } from "../../ops/stacks";
import { backupBucket, harnessS3 } from "../fixtures/backup-bucket";
import { edgeTable } from "../fixtures/reconcile-edge";
import { ReplayClient, type Exchange } from "../fakes/sql-recording";
import { harness, mssqlConnection } from "../harness";

const SERVER_DIR = "/var/opt/mssql/cdc-backups";
const local = mkdtempSync(path.join(tmpdir(), "cdc-mssql-share-"));
const client = harnessS3();
let dest: BackupDestination;

/** A log position as backupset holds it (decimal text): VLF 34, block `block`, slot 1. */
const lsnAt = (block: number) => `34${String(block).padStart(10, "0")}00001`;

/**
 * The stand-in's script: each BACKUP writes `bytes` and msdb then reports the next entry of `positions`; each
 * RESTORE of a file records the sha256 of what it read.
 */
class StandInServer {
  readonly sent: { sql: string; database?: string }[] = [];
  readonly restoredFrom: { file: string; sha256: string }[] = [];
  databases = new Set<string>(["shop"]);
  positions: { first: string; last: string }[] = [];
  digests: Exchange[] = [];

  session: SqlServerSession = async (work, options) => work(this.clientOn(options?.database));

  private clientOn(database?: string): SqlClient {
    return {
      query: async <T>(sql: string) => {
        this.sent.push({ sql, database });
        return (await this.answer(sql.replace(/\s+/g, " ").trim())) as T[];
      },
    };
  }

  private localOf(serverPath: string): string {
    expect(serverPath.startsWith(`${SERVER_DIR}/`)).toBe(true);
    return path.join(local, path.posix.basename(serverPath));
  }

  private async answer(sql: string): Promise<Record<string, unknown>[]> {
    const disk = /DISK = N'([^']+)'/.exec(sql)?.[1];
    if (sql.startsWith("BACKUP ")) {
      writeFileSync(this.localOf(disk!), randomBytes(300_000));
      return [];
    }
    if (sql.includes("FROM msdb.dbo.backupset")) {
      // Scripted positions, else each backup a little further on (a copy-only log from block 90).
      const next = this.positions.shift() ?? { first: lsnAt(90), last: lsnAt(1000 + this.sent.length) };
      const device = /physical_device_name = N'([^']+)'/.exec(sql)?.[1];
      return [
        {
          first_lsn: next.first,
          last_lsn: next.last,
          checkpoint_lsn: next.first,
          database_backup_lsn: lsnAt(1),
          finished_utc: new Date().toISOString().slice(0, 23),
          is_copy_only: true,
          device,
        },
      ];
    }
    if (sql.includes("recovery_model_desc")) return [{ recovery_model_desc: "FULL", last_log_backup_lsn: lsnAt(2) }];
    if (sql.startsWith("SELECT name FROM sys.databases")) {
      const name = /name = N'([^']+)'/.exec(sql)![1];
      return this.databases.has(name) ? [{ name }] : [];
    }
    if (sql.startsWith("RESTORE FILELISTONLY")) {
      return [
        { LogicalName: "shop", PhysicalName: "/var/opt/mssql/data/shop.mdf", Type: "D", FileID: "1" },
        { LogicalName: "shop_log", PhysicalName: "/var/opt/mssql/data/shop_log.ldf", Type: "L", FileID: "2" },
      ];
    }
    if (sql.includes("InstanceDefaultDataPath"))
      return [{ data_dir: "/var/opt/mssql/data/", log_dir: "/var/opt/mssql/log/" }];
    if (/RESTORE (DATABASE|LOG) \[[^\]]+\] FROM DISK/.test(sql)) {
      const file = this.localOf(disk!);
      this.restoredFrom.push({ file: path.basename(file), sha256: sha256(readFileSync(file)) });
      this.databases.add(/RESTORE (?:DATABASE|LOG) \[([^\]]+)\]/.exec(sql)![1]);
      return [];
    }
    if (sql.startsWith("SELECT state_desc FROM sys.databases")) return [{ state_desc: "ONLINE" }];
    if (sql.includes("SET OFFLINE") || sql.startsWith("RESTORE DATABASE")) return [];
    if (sql.includes("DROP DATABASE")) {
      this.databases.delete(/DB_ID\(N'([^']+)'\)/.exec(sql)![1]);
      return [];
    }
    // A table's digest in the restored copy: the recorded T-SQL, answered as recorded.
    const replay = new ReplayClient(this.digests.splice(0, 1));
    return replay.query(sql);
  }
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

const recordedDigest = () =>
  JSON.parse(
    readFileSync(path.join(__dirname, "../recordings/sqlserver/reconcile-edge-match.json"), "utf8"),
  ) as Exchange[];

const EDGE = edgeTable({ schema: "dbo", name: "edge_fixture" }, { schema: "replica", name: "edge_fixture" });
const jobFile = (bucket: string) => ({
  stack: "sqldev",
  source: { engine: "sqlserver", host: "mssql", port: 1433, database: "shop", user: "cdc_backup" },
  tables: [{ schema: "dbo", name: "edge_fixture", columns: EDGE.columns, primaryKey: EDGE.primaryKey }],
  topicPrefix: "shop",
  connectUrl: "http://connect:8083",
  backups: {
    bucket,
    keyTemplate: "<kind>/<yyyy>/<mm>/<dd>/<stack>-<time>.<ext>",
    files: [],
    schedule: { database: 3600, log: 300 },
    logRpoMinutes: 15,
    sqlServer: { serverDirectory: SERVER_DIR, localDirectory: local, timeoutMinutes: 1 },
  },
});

let server: StandInServer;
let job: ReturnType<typeof parseBackupJob>;
const restoreTarget = (): RestoreServer & { engine: "sqlserver" } => ({
  engine: "sqlserver",
  session: server.session,
  directories: job.backups.sqlServer!,
});
const at = (iso: string) => new Date(iso);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  const bucket = await backupBucket(client);
  job = parseBackupJob(jobFile(bucket), { CDC_SOURCE_PASSWORD: "pw" });
  dest = { client, bucket, keyTemplate: job.backups.keyTemplate };
});
afterAll(() => {
  client.destroy();
  rmSync(local, { recursive: true, force: true });
});

describe("backup of a SQL Server source (scripted stand-in server, real bucket)", () => {
  let full: BackupManifest;
  const logs: BackupManifest[] = [];

  it("database: BACKUP to the shared directory, uploaded with its LSNs, the file removed", async () => {
    server = new StandInServer();
    server.positions = [{ first: lsnAt(100), last: lsnAt(120) }];
    full = await backupDatabase(job, dest, { sqlServer: server.session, now: at("2026-12-01T10:00:00Z") });
    expect(full).toMatchObject({
      kind: "database",
      key: "database/2026/12/01/sqldev-20261201T100000000Z.bak",
      size: 300_000,
      source: { engine: "sqlserver", database: "shop", position: lsnAt(120), firstPosition: lsnAt(100), tables: {} },
    });
    expect(server.sent[0].sql).toContain(
      `BACKUP DATABASE [shop] TO DISK = N'${SERVER_DIR}/cdc-sqldev-20261201T100000000Z.bak'`,
    );
    expect(readdirSync(local)).toEqual([]);
  });

  it("log: copy-only BACKUP LOG after the log chain check, under log/<stack>/ ordered by time", async () => {
    // Copy-only log backups each hold the log since the last regular one (block 90): they overlap.
    server.positions = [
      { first: lsnAt(90), last: lsnAt(130) },
      { first: lsnAt(90), last: lsnAt(150) },
    ];
    for (const when of ["2026-12-01T10:05:00Z", "2026-12-01T10:10:00Z"]) {
      logs.push(await backupSqlServerLog(job, dest, { sqlServer: server.session, now: at(when) }));
    }
    expect(logs.map((m) => m.key)).toEqual([
      "log/sqldev/20261201T100500000Z.trn",
      "log/sqldev/20261201T101000000Z.trn",
    ]);
    expect(server.sent.map((s) => s.sql).filter((s) => s.startsWith("BACKUP LOG"))).toHaveLength(2);
    expect(server.sent.some((s) => s.sql.includes("last_log_backup_lsn"))).toBe(true);
    expect((await listSqlServerLogs(dest, "sqldev")).map((l) => l.key)).toEqual(logs.map((m) => m.key));
  });

  it("a PostgreSQL source's log kind is the WAL archive: refused with the way to get it", async () => {
    const pg = { ...job, source: { ...job.source, engine: "postgres" as const } };
    await expect(backupSqlServerLog(pg, dest)).rejects.toThrow("backups.schedule.log");
  });

  it("rpo checks the log kind of a SQL Server stack by its newest log backup", async () => {
    const report = await checkRpo({
      client,
      bucket: dest.bucket,
      rpoHours: { database: 24, files: 24, config: 24 },
      keyTemplate: dest.keyTemplate,
      pointInTime: { stack: "sqldev", engine: "sqlserver", logMinutes: 15 },
    });
    const log = report.backups.find((b) => b.kind === "log");
    expect(log).toMatchObject({ newest: { key: logs[1].key }, keyTemplate: "log/sqldev/<time>.trn", problems: [] });
    expect(report.backups.map((b) => b.kind)).not.toContain("base");
  });

  describe("restore --at", () => {
    it("takes the full backup before the time and the one copy-only log that reaches past it", async () => {
      const plan = await sqlServerPointInTime(dest, "sqldev", at("2026-12-01T10:07:00Z"));
      expect(plan.full.key).toBe(full.key);
      // The 10:10 log starts where the 10:05 one does (block 90), before the full backup's end: it alone suffices.
      expect(plan.logs.map((m) => m.key)).toEqual([logs[1].key]);
    });

    it("restores: the objects downloaded and checked into the shared directory, RESTORE reads them, then gone", async () => {
      const plan = await sqlServerPointInTime(dest, "sqldev", at("2026-12-01T10:07:00Z"));
      server.sent.length = 0;
      const result = await restoreSqlServerBackup(restoreTarget(), dest, plan, "shop_restored");
      expect(server.restoredFrom.map((r) => r.sha256)).toEqual([full.sha256, logs[1].sha256]);
      expect(result).toMatchObject({ database: "shop_restored", logsApplied: 1, stoppedInLog: 0 });
      const statements = server.sent.map((s) => s.sql.replace(/\s+/g, " "));
      expect(statements.find((s) => s.includes("RESTORE DATABASE [shop_restored]"))).toMatch(
        /MOVE N'shop' TO N'\/var\/opt\/mssql\/data\/shop_restored.mdf'.*STOPAT = @stopat, NORECOVERY/,
      );
      expect(server.sent.every((s) => s.database === "master")).toBe(true);
      expect(readdirSync(local)).toEqual([]);
    });

    it("refuses an existing database without --replace before downloading; with it, takes it offline first", async () => {
      const plan = { full, logs: [] };
      await expect(restoreSqlServerBackup(restoreTarget(), dest, plan, "shop_restored")).rejects.toThrow(
        "--to-database shop_restored exists: pass --replace to restore over it",
      );
      server.sent.length = 0;
      await restoreSqlServerBackup(restoreTarget(), dest, plan, "shop_restored", { replace: true });
      const statements = server.sent.map((s) => s.sql.replace(/\s+/g, " "));
      const offline = statements.findIndex((s) => s.includes("ALTER DATABASE [shop_restored] SET OFFLINE"));
      const restore = statements.findIndex((s) => s.startsWith("RESTORE DATABASE [shop_restored]"));
      expect(offline).toBeGreaterThan(-1);
      expect(restore).toBeGreaterThan(offline);
      expect(statements[restore]).toContain("REPLACE, RECOVERY");
    });

    it("a time before the oldest full backup, or after the newest log, is refused", async () => {
      await expect(sqlServerPointInTime(dest, "sqldev", at("2026-12-01T09:00:00Z"))).rejects.toThrow(
        "--at 2026-12-01T09:00:00.000Z is before the oldest database backup",
      );
      await expect(sqlServerPointInTime(dest, "sqldev", at("2030-01-01T00:00:00Z"))).rejects.toThrow(
        "--at 2030-01-01T00:00:00.000Z is after the newest log backup of sqldev",
      );
    });

    it("a regular log backup taken by another job breaks the chain: said, with the LSN", async () => {
      // Another job's regular log backup moved the archive point to block 200: our next log starts there.
      server.positions = [{ first: lsnAt(200), last: lsnAt(220) }];
      await backupSqlServerLog(job, dest, { sqlServer: server.session, now: at("2026-12-01T10:20:00Z") });
      await expect(sqlServerPointInTime(dest, "sqldev", at("2026-12-01T10:15:00Z"))).rejects.toThrow(
        `--at: the log chain of sqldev breaks at LSN ${BigInt(lsnAt(150))}`,
      );
    });

    it("a tampered object is refused before any RESTORE", async () => {
      await client.send(new PutObjectCommand({ Bucket: dest.bucket, Key: logs[0].key, Body: randomBytes(10) }));
      server.sent.length = 0;
      const tampered = { full, logs: [logs[0]] };
      await expect(restoreSqlServerBackup(restoreTarget(), dest, tampered, "shop_tampered")).rejects.toThrow(
        BackupIntegrityError,
      );
      expect(server.sent.some((s) => s.sql.startsWith("RESTORE"))).toBe(false);
      expect(readdirSync(local)).toEqual([]);
    });
  });

  it("backup schedule takes database and log backups on their own intervals, the first at once", async () => {
    const scheduled = parseBackupJob(
      {
        ...jobFile(dest.bucket),
        stack: "sqlsched",
        backups: {
          ...jobFile(dest.bucket).backups,
          endpoint: harness.env.CDC_S3_ENDPOINT,
          schedule: { database: 60, log: 1 },
        },
      },
      { CDC_SOURCE_PASSWORD: "pw" },
    );
    const lines: string[] = [];
    const stop = new AbortController();
    const running = runSchedule(scheduled, {
      log: (line) => lines.push(line),
      signal: stop.signal,
      backup: { sqlServer: new StandInServer().session },
    });
    const deadline = Date.now() + 20_000;
    while ((await listSqlServerLogs(dest, "sqlsched")).length < 2 && Date.now() < deadline) await sleep(200);
    stop.abort();
    await running;
    expect((await listSqlServerLogs(dest, "sqlsched")).length).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => / database: database\/.*sqlsched-.*\.bak/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("FAILED"))).toEqual([]);
    // No pg_receivewal for a SQL Server source: its log is the log backups.
    expect(lines.some((l) => l.includes("pg_receivewal"))).toBe(false);
  });

  describe("backup verify", () => {
    const site = () =>
      ({
        stack: { name: "sqldev" },
        settings: { tables: job.tables, target: { schema: "replica" } },
      }) as unknown as StackSite;

    it("restores a scratch copy, digests each table there, drops it, records the result", async () => {
      server.sent.length = 0;
      server.digests = recordedDigest().slice(0, 1);
      const report = await verifyBackup(site(), restoreTarget(), dest, full);
      expect(report).toMatchObject({
        status: "match",
        tables: [{ table: "dbo.edge_fixture", ok: true, restored: { rows: 4 } }],
      });
      expect(report.tables[0].expected).toBeUndefined();
      const scratch = /RESTORE DATABASE \[(cdc_verify_[0-9a-f]+)\]/.exec(server.sent.map((s) => s.sql).join("\n"))![1];
      expect(server.sent.find((s) => s.sql.includes("edge_fixture"))?.database).toBe(scratch);
      expect(server.databases.has(scratch)).toBe(false);
      expect(report.recordedAs).toMatch(/^verify\/database\/2026\/12\/01\/sqldev-20261201T100000000Z\.bak\./);
    });

    it("a table the restored copy cannot read is a mismatch", async () => {
      server.digests = [{ sql: "not the digest the verification sends" }];
      const report = await verifyBackup(site(), restoreTarget(), dest, full);
      expect(report).toMatchObject({ status: "mismatch", tables: [{ ok: false, restored: undefined }] });
      expect(readdirSync(local)).toEqual([]);
    });
  });
});

// The same commands against a real SQL Server, where one runs (.github/workflows/sqlserver-live.yml): set
// MSSQL_URL (see sqlserver-backup-live.test.ts), MSSQL_SHARED_DIR (a directory the server writes, as it names
// it) and MSSQL_SHARED_LOCAL_DIR (the same directory as this host sees it: a volume of the server's
// container). Skipped without them.
const live = {
  url: process.env.MSSQL_URL,
  serverDirectory: process.env.MSSQL_SHARED_DIR,
  localDirectory: process.env.MSSQL_SHARED_LOCAL_DIR,
};
describe.skipIf(!live.url || !live.serverDirectory || !live.localDirectory)(
  "the SQL Server backup commands against a live SQL Server (skipped: set MSSQL_URL, MSSQL_SHARED_DIR and MSSQL_SHARED_LOCAL_DIR)",
  () => {
    const run = Date.now().toString(36);
    const database = `cdc_cmd_${run}`;
    const restored = [`${database}_then`, `${database}_full`];
    const conn = () => ({ ...mssqlConnection(live.url!), database });
    const master = () => ({ ...conn(), database: "master" });
    const sql = <T = Record<string, unknown>>(text: string) => withSqlServer(master(), (c) => c.query<T>(text));
    const ids = async (db: string) =>
      (await sql<{ id: number }>(`SELECT id FROM ${bracketed(db)}.dbo.events ORDER BY id`)).map((r) => r.id);
    const serverNow = async () => {
      const [row] = await sql<{ now: string }>("SELECT CONVERT(varchar(23), SYSUTCDATETIME(), 126) AS now");
      return new Date(`${row.now}Z`);
    };
    let liveJob: ReturnType<typeof parseBackupJob>;
    let target: RestoreServer & { engine: "sqlserver" };

    beforeAll(async () => {
      await sql(`CREATE DATABASE ${bracketed(database)}`);
      await sql(`ALTER DATABASE ${bracketed(database)} SET RECOVERY FULL`);
      await sql(`CREATE TABLE ${bracketed(database)}.dbo.events (id int PRIMARY KEY, note nvarchar(50) NOT NULL)`);
      await sql(`INSERT INTO ${bracketed(database)}.dbo.events VALUES (1, N'one'), (2, N'two')`);
      // The regular full backup the runbooks' jobs take: it starts the log chain our copy-only logs read.
      const chainStart = `${live.serverDirectory}/${database}-chain.bak`;
      await withSqlServer(master(), (c) => backupDatabaseToDisk(c, { database, path: chainStart, copyOnly: false }));
      rmSync(path.join(live.localDirectory!, `${database}-chain.bak`), { force: true });
      const { password, ...source } = conn();
      liveJob = parseBackupJob(
        {
          ...jobFile(dest.bucket),
          stack: `live-${run}`,
          source: { engine: "sqlserver", ...source },
          tables: [
            {
              schema: "dbo",
              name: "events",
              columns: [
                { name: "id", type: "integer" },
                { name: "note", type: "text" },
              ],
              primaryKey: ["id"],
            },
          ],
          backups: {
            ...jobFile(dest.bucket).backups,
            sqlServer: {
              serverDirectory: live.serverDirectory,
              localDirectory: live.localDirectory,
              timeoutMinutes: 5,
            },
          },
        },
        { CDC_SOURCE_PASSWORD: password },
      );
      target = {
        engine: "sqlserver",
        session: sqlServerSessions(conn()),
        directories: liveJob.backups.sqlServer!,
      };
    }, 120_000);

    afterAll(async () => {
      for (const db of [...restored, database]) {
        await withSqlServer(master(), (c) => dropSqlServerDatabase(c, db));
      }
    }, 120_000);

    it("backs up, restores to a point between two writes and in full, verifies, refuses and replaces", async () => {
      const full = await backupDatabase(liveJob, dest);
      expect(full.source).toMatchObject({ engine: "sqlserver", database });
      await sql(`INSERT INTO ${bracketed(database)}.dbo.events VALUES (3, N'three')`);
      await sleep(1500);
      const between = await serverNow();
      await sleep(1500);
      await sql(`INSERT INTO ${bracketed(database)}.dbo.events VALUES (4, N'four')`);
      await backupSqlServerLog(liveJob, dest);
      expect(readdirSync(live.localDirectory!).filter((f) => f.includes(liveJob.stack))).toEqual([]);

      const plan = await sqlServerPointInTime(dest, liveJob.stack, between);
      await restoreSqlServerBackup(target, dest, plan, restored[0]);
      expect(await ids(restored[0])).toEqual([1, 2, 3]);

      await restoreSqlServerBackup(target, dest, { full, logs: [] }, restored[1]);
      expect(await ids(restored[1])).toEqual([1, 2]);
      await expect(restoreSqlServerBackup(target, dest, { full, logs: [] }, restored[1])).rejects.toThrow(
        "exists: pass --replace",
      );
      await withSqlServer({ ...conn(), database: restored[1] }, async (holder) => {
        await holder.query("SELECT 1 AS held");
        await restoreSqlServerBackup(target, dest, { full, logs: [] }, restored[1], { replace: true });
      });
      expect(await ids(restored[1])).toEqual([1, 2]);

      const site = {
        stack: { name: liveJob.stack },
        settings: { tables: liveJob.tables, target: { schema: "replica" } },
      } as unknown as StackSite;
      const report = await verifyBackup(site, target, dest, full);
      expect(report).toMatchObject({
        status: "match",
        tables: [{ table: "dbo.events", ok: true, restored: { rows: 2 } }],
      });
    }, 600_000);
  },
);

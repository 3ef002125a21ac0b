// `cdc-pipeline backup`, `backup verify` and `restore` as a user runs them (npm run ops, the real Pulumi
// CLI's stack config), against the harness's PostgreSQL source and S3 server (moto): a backup taken while a
// writer is busy verifies; a restore lands exactly the rows its manifest counted; a tampered object is
// refused by restore and caught by verify; no backup yet, a bucket that cannot be read, a bucket the stack
// does not own and a non-empty database are refused with nothing written; `rpo` sees what backup wrote.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import axios from "axios";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_KEY_TEMPLATE, manifestKey } from "../../lib/backup-keys";
import { listBackups, type BackupManifest } from "../../lib/backup-objects";
import { withClient } from "../../lib/postgres";
import { databaseState, dropDatabase } from "../../lib/postgres-backup";
import type { RpoReport } from "../../ops/rpo";
import type { VerifyReport } from "../../ops/restore";
import { archivedSegments } from "../../ops/wal-archive";
import { eventually, query } from "../connectors";
import { backupBucket, harnessS3 } from "../fixtures/backup-bucket";
import { harness, PROJECT_DIR } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const s3 = harnessS3();
const OPS = ["harness-env.sh", "npm", "run", "-s", "ops", "--"] as const;
const ops = (...args: string[]) => backend.script(...OPS, ...args);
const configFile = path.join(PROJECT_DIR, "Pulumi.local.yaml");
const saved = readFileSync(configFile, "utf8");
const server = { ...harness.source, password: harness.pgPassword };
const restored = `cdc_restore_${process.pid}`;
const files = mkdtempSync(path.join(tmpdir(), "cdc-backup-files-"));
let bucket: string;

const text = async (key: string) =>
  (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? "";
const count = (database: string, table: string) =>
  withClient({ ...server, database }, async (c) =>
    Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n),
  );

beforeAll(async () => {
  bucket = await backupBucket(s3);
  backend.ok("stack", "select", "local", "--create");
  // The stack names an existing bucket, as a stack without components.backups does.
  for (const [key, value] of [
    ["backups.bucket", bucket],
    ["backups.endpoint", harness.env.CDC_S3_ENDPOINT],
    ["backups.files[0]", files],
  ]) {
    backend.ok("config", "set", "--stack", "local", "--path", key, value);
  }
  writeFileSync(path.join(files, "connect.properties"), "group.id=cdc\n");
});
/** The ids this file writes into the harness's source (the busy writer's and the point in time's). */
const WRITTEN_IDS = [700_000, 900_000] as const;
afterAll(async () => {
  s3.destroy();
  backend.dispose(["local"]);
  writeFileSync(configFile, saved);
  await dropDatabase(server, restored);
  // The source is shared: the next file's pipeline must not find thousands of rows it has yet to copy. The
  // target too: the stack deployed here copied them there, and is gone before they are deleted.
  for (const side of ["source", "target"] as const) {
    await query(side, "DELETE FROM inventory.customers WHERE id >= $1 AND id < $2", [...WRITTEN_IDS]);
  }
});

describe("before any backup", () => {
  it("restore is an error naming what to run, and creates no database", async () => {
    const run = ops("restore", "--stack", "local", "--to-database", restored);
    expect(run.status, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain(`no database backup in s3://${bucket}`);
    expect(await databaseState(server, restored)).toBe("missing");
  });

  it("rpo names every kind missing", () => {
    const run = ops("rpo", "--stack", "local");
    expect(run.status, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/no database backup named like <kind>\/<yyyy>/);
  });
});

describe("a database backup taken while a writer is busy", () => {
  let manifest: BackupManifest;

  beforeAll(async () => {
    // A writer inserting customers for as long as the backup runs (which runs beside it, not blocking this
    // process), after a first row: the table is not empty, whatever the files before this one left in it.
    let next = 700_000 + Math.floor(Math.random() * 100_000);
    const insert = () => query("source", "INSERT INTO inventory.customers VALUES ($1, 'W', NULL)", [next++]);
    await insert();
    const first = next;
    let writing = true;
    const backup = backend.scriptAsync(...OPS, "backup", "--stack", "local", "--kind", "database", "--json");
    const writer = (async () => {
      while (writing) await insert();
    })();
    const run = await backup;
    writing = false;
    await writer;
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(next - first, "rows the writer inserted while the backup ran").toBeGreaterThan(1);
    [manifest] = JSON.parse(run.stdout) as BackupManifest[];
  });

  it("is one object with its manifest: kind, position, per-table counts and hashes, sha256 and size", async () => {
    expect(manifest.key).toMatch(/^database\/\d{4}\/\d{2}\/\d{2}\/local-\d{8}T\d{9}Z\.dump$/);
    expect(manifest.source?.position).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(Object.keys(manifest.source?.tables ?? {})).toEqual(["inventory.customers", "inventory.orders"]);
    expect(manifest.source?.tables["inventory.customers"].rows).toBeGreaterThan(0);
    expect(JSON.parse(await text(manifestKey(manifest.key)))).toEqual(manifest);
    const head = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifest.key }));
    expect(head.ContentLength).toBe(manifest.size);
  });

  it("verifies: the restored scratch copy holds exactly the manifest's rows, and the result is recorded", async () => {
    const run = ops("backup", "verify", "--stack", "local", "--json");
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as VerifyReport;
    expect(report.status).toBe("match");
    expect(report.key).toBe(manifest.key);
    expect(report.tables.map((t) => [t.table, t.ok])).toEqual([
      ["inventory.customers", true],
      ["inventory.orders", true],
    ]);
    expect((JSON.parse(await text(report.recordedAs)) as VerifyReport).status).toBe("match");
    // The scratch database is gone.
    const scratch = await withClient(
      { ...server, database: "postgres" },
      async (c) =>
        (await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'cdc_verify_%'")).rows,
    );
    expect(scratch).toEqual([]);
  });

  it("restores as a new database holding the rows the manifest counted, without CDC", async () => {
    const run = ops("restore", "--stack", "local", "--to-database", restored);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`restored s3://${bucket}/${manifest.key}`);
    expect(await count(restored, "inventory.customers")).toBe(manifest.source?.tables["inventory.customers"].rows);
    const publications = await withClient(
      { ...server, database: restored },
      async (c) => (await c.query<{ pubname: string }>("SELECT pubname FROM pg_publication")).rows,
    );
    expect(publications).toEqual([]);
  });

  it("refuses a database that is not empty, unless --replace", async () => {
    const refused = ops("restore", "--stack", "local", "--to-database", restored);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`--to-database ${restored} is not empty: pass --replace`);
    await withClient({ ...server, database: restored }, (c) => c.query("DELETE FROM inventory.orders"));
    const replaced = ops("restore", "--stack", "local", "--to-database", restored, "--replace");
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(await count(restored, "inventory.orders")).toBe(manifest.source?.tables["inventory.orders"].rows);
  });

  it("refuses a bucket the stack does not own, naming the flag", () => {
    const run = ops("restore", "--stack", "local", "--to-database", restored, "--from-bucket", "someone-elses");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      `--from-bucket someone-elses is not a bucket of stack local (its buckets: ${bucket}, cdc-local-backups-replica)`,
    );
  });

  it("rpo and status see the backups this command wrote", () => {
    for (const kind of ["config", "files"]) {
      const run = ops("backup", "--stack", "local", "--kind", kind);
      expect(run.status, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^${kind}: s3://${bucket}/${kind}/`, "m"));
    }
    const rpo = ops("rpo", "--stack", "local", "--json");
    const report = JSON.parse(rpo.stdout) as RpoReport;
    expect(report.backups.map((b) => [b.kind, b.problems])).toEqual([
      ["database", []],
      ["files", []],
      ["config", []],
    ]);
    expect(report.backups[0].newest?.key).toBe(manifest.key);
    expect(ops("status", "--stack", "local").stdout).toMatch(
      new RegExp(`^backups s3://${bucket}: database 0\\.0 h`, "m"),
    );
  });

  it("config holds connectors, offsets and CDC facts, and no password", async () => {
    const run = ops("backup", "--stack", "local", "--kind", "config", "--json");
    const [config] = JSON.parse(run.stdout) as BackupManifest[];
    const body = await text(config.key);
    expect(body).not.toContain(harness.pgPassword);
    const snapshot = JSON.parse(body) as { settings: unknown; cdc: { publicationExists: boolean } };
    expect(snapshot.settings).toBeDefined();
    expect(typeof snapshot.cdc.publicationExists).toBe("boolean");
  });

  it("backs the target up on request, under a kind of its own that restore never takes for the source", async () => {
    // The target's tables are the deployed stack's: on a fresh harness no other file may have made them yet.
    backend.ok("up", "--stack", "local", "--yes", "--skip-preview");
    const run = ops("backup", "--stack", "local", "--kind", "target", "--json");
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const [target] = JSON.parse(run.stdout) as BackupManifest[];
    expect(target.kind).toBe("target");
    expect(target.key).toMatch(/^target\/.*\/local-.*\.dump$/);
    expect(target.source?.database).toBe(harness.target.database);
    const rows = await withClient({ ...harness.target, password: harness.pgPassword }, async (c) =>
      Number((await c.query<{ n: string }>("SELECT count(*) AS n FROM inventory.customers")).rows[0].n),
    );
    expect(target.source?.tables["inventory.customers"].rows).toBe(rows);
    // The newest database backup is still the source's.
    const restore = ops("restore", "--stack", "local", "--to-database", `${restored}_s`);
    expect(restore.stdout).toContain(`restored s3://${bucket}/${manifest.key}`);
    await dropDatabase(server, `${restored}_s`);
  });

  it("a tampered object is refused by restore before anything is written, and caught by verify", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifest.key, Body: "not a dump" }));
    const other = `${restored}_t`;
    const run = ops("restore", "--stack", "local", "--to-database", other, "--object", manifest.key);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`s3://${bucket}/${manifest.key} does not match its manifest`);
    expect(await databaseState(server, other)).toBe("missing");

    const verify = ops("backup", "verify", "--stack", "local", "--object", manifest.key, "--json");
    expect(verify.status, verify.stderr).toBe(1);
    expect((JSON.parse(verify.stdout) as VerifyReport).problem).toContain("does not match its manifest");
  });
});

describe("bad input", () => {
  it("an unknown kind names --kind and what is allowed", () => {
    const run = ops("backup", "--stack", "local", "--kind", "logs");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--kind.*'logs' is invalid.*database, files, config, base, log, target, all/s);
  });

  it("the log kind of a PostgreSQL source is its WAL archive: refused, naming backups.schedule.log", () => {
    const run = ops("backup", "--stack", "local", "--kind", "log");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      "a PostgreSQL source's WAL is archived all along by `backup schedule` (backups.schedule.log)",
    );
  });

  it("a bucket that cannot be read is an error, and writes nothing", () => {
    const run = ops("backup", "--stack", "local", "--kind", "config", "--bucket", "no-such-backups");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/NoSuchBucket|bucket does not exist/i);
  });

  it("never printed a password", () => {
    expect(backend.transcript.join("\n")).not.toContain(harness.pgPassword);
  });
});

let jobs = 0;
/** The stack's backup job as `backup job` prints it (no password in it), with a schedule of the test's own. */
function jobFile(schedule: Record<string, number>, settings: Record<string, unknown> = {}): string {
  const printed = ops("backup", "job", "--stack", "local");
  expect(printed.status, printed.stderr).toBe(0);
  expect(printed.stdout).not.toContain(harness.pgPassword);
  const job = JSON.parse(printed.stdout) as { backups: Record<string, unknown> };
  Object.assign(job.backups, settings, { schedule });
  const file = path.join(files, `job-${jobs++}.json`);
  writeFileSync(file, JSON.stringify(job));
  return file;
}

/**
 * `backup schedule --job` in the background with only what a job needs: the database password and the
 * bucket's credentials; no PULUMI_CONFIG_PASSPHRASE.
 */
function startSchedule(file: string) {
  const child = spawn(process.execPath, ["ops/bin.cjs", "backup", "schedule", "--job", file], {
    cwd: PROJECT_DIR,
    env: {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: "harness",
      AWS_SECRET_ACCESS_KEY: "harness",
      CDC_SOURCE_PASSWORD: harness.pgPassword,
    },
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, exited, output: () => output };
}

describe("backup schedule", () => {
  it("runs from a job file, without the stack's passphrase: two ticks in the bucket, metrics in the Pushgateway", async () => {
    const before = (await listBackups({ client: s3, bucket, keyTemplate: DEFAULT_KEY_TEMPLATE }, "database")).length;

    const schedule = startSchedule(jobFile({ database: 2 }, { pushgateway: harness.env.CDC_PUSHGATEWAY_URL }));
    try {
      await eventually(
        async () => (await listBackups({ client: s3, bucket, keyTemplate: DEFAULT_KEY_TEMPLATE }, "database")).length,
        (n) => n >= before + 2,
        30_000,
      );
    } finally {
      schedule.child.kill("SIGTERM");
    }
    expect(await schedule.exited, schedule.output()).toBe(0);
    expect(schedule.output().match(/ database: database\//g)?.length, schedule.output()).toBeGreaterThanOrEqual(2);
    expect(schedule.output()).not.toContain("FAILED");

    const metrics = (await axios.get<string>(`${harness.env.CDC_PUSHGATEWAY_URL}/metrics`)).data;
    const line = metrics.split("\n").find((l) => l.startsWith("cdc_backup_last_success_timestamp_seconds{"));
    expect(line).toMatch(/job="cdc_backup"/);
    expect(line).toMatch(/kind="database"/);
    expect(line).toMatch(/stack="local"/);
    expect(Number(line?.split(" ").at(-1))).toBeGreaterThan(Date.now() / 1000 - 60);
    await axios.delete(`${harness.env.CDC_PUSHGATEWAY_URL}/metrics/job/cdc_backup/kind/database/stack/local`);
  });

  it("refuses a job file that is not one, naming the field", () => {
    const file = path.join(files, "bad-job.json");
    writeFileSync(file, JSON.stringify({ stack: "local" }));
    const run = spawnSync(process.execPath, ["ops/bin.cjs", "backup", "schedule", "--job", file], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      env: { PATH: process.env.PATH, CDC_SOURCE_PASSWORD: "x" },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/invalid backup job:\n {2}- source /);
  });
});

describe("restore --at: a point in time", () => {
  const pitr = `${restored}_at`;
  afterAll(async () => {
    await dropDatabase(server, pitr);
    // The archive's replication slot keeps WAL on the source for as long as it exists.
    await withClient({ ...server, database: "postgres" }, (c) =>
      c.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'cdc_wal_local'"),
    );
  });

  it("lands exactly between two writes: a base backup replayed with the WAL the schedule archived", async () => {
    const schedule = startSchedule(jobFile({ log: 1 }, { walSpool: path.join(files, "wal-spool") }));
    const a = 800_000 + Math.floor(Math.random() * 100_000);
    let between: Date;
    try {
      await eventually(
        () => Promise.resolve(schedule.output()),
        (o) => o.includes("log: streaming WAL"),
        30_000,
      );
      const base = ops("backup", "--stack", "local", "--kind", "base");
      expect(base.status, base.stdout + base.stderr).toBe(0);
      expect(base.stdout).toMatch(/^base: s3:\/\/.*\/base\/.*\.tar /m);

      await query("source", "INSERT INTO inventory.customers VALUES ($1, 'Before', NULL)", [a]);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      between = new Date();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await query("source", "INSERT INTO inventory.customers VALUES ($1, 'After', NULL)", [a + 1]);
      const afterWrite = Date.now();
      // The archive reaches past the second write once a shipping after it is in the bucket.
      await eventually(
        async () => archivedSegments(s3, bucket, "local"),
        (segments) => segments.some((s) => s.lastModified.getTime() > afterWrite + 1000),
        30_000,
      );
    } finally {
      schedule.child.kill("SIGTERM");
    }
    expect(await schedule.exited, schedule.output()).toBe(0);
    expect(schedule.output()).not.toContain("FAILED");

    const run = ops("restore", "--stack", "local", "--at", between.toISOString(), "--to-database", pitr);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^restored base\/.* replayed with \d+ WAL segment\(s\) to /m);
    const rows = await withClient({ ...server, database: pitr }, async (c) =>
      (
        await c.query<{ name: string }>("SELECT name FROM inventory.customers WHERE id IN ($1, $2) ORDER BY id", [
          a,
          a + 1,
        ])
      ).rows.map((r) => r.name),
    );
    expect(rows).toEqual(["Before"]);
  });

  it("refuses --at before the oldest base backup, after the newest archived WAL, or not a time", () => {
    const early = ops("restore", "--stack", "local", "--at", "2020-01-01T00:00:00Z", "--to-database", `${pitr}_x`);
    expect(early.status).toBe(2);
    expect(early.stderr).toContain("--at 2020-01-01T00:00:00.000Z is before the oldest base backup (completed ");
    const late = new Date(Date.now() + 3_600_000).toISOString();
    const future = ops("restore", "--stack", "local", "--at", late, "--to-database", `${pitr}_x`);
    expect(future.status).toBe(2);
    expect(future.stderr).toContain(`--at ${late} is after the newest archived WAL of local (shipped `);
    const garbage = ops("restore", "--stack", "local", "--at", "yesterday", "--to-database", `${pitr}_x`);
    expect(garbage.status).toBe(2);
    expect(garbage.stderr).toContain("--at takes an ISO 8601 time such as 2026-12-01T14:05:00Z");
  });
});

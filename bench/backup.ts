// Benchmark of the database backup and restore on the harness: a scratch database `cdc_bench_backup` on the
// source cluster with the stack's two tables (inventory.customers and inventory.orders, random md5 text so
// that the custom format's compression leaves the dump at >= 100 MB), a scratch bucket on moto. Prints
// figures; asserts nothing.
//   1. the floor: `pg_dump --format=custom` of the same database to /dev/null;
//   2. backupDatabase (ops/backup.ts) through a BackupJob of that database into the scratch bucket (8 MiB
//      parts): time, MB/s, ratio to the floor, and the peak RSS growth while it runs (sampled every 50 ms),
//      which shows the dump streamed rather than held. Timed apart, for where the time goes: the count and
//      hash of the tables it takes first in the dump's snapshot, and the upload of the same bytes from a file;
//   3. the floor of a restore: pg_restore of the backup, downloaded beforehand, into a new database; then
//      restoreDatabase (ops/restore.ts) of the backup as `cdc_bench_restore`: download, sha256 check, pg_restore;
//   4. verify: every table of the restored copy counted and hashed, against the manifest.
// A warm-up pg_dump (writing the local copy the upload reads) reads the database first; each floor runs before
// and after what it is the floor of, and the faster run counts. Run: npm run bench:backup (the harness must be
// up). BENCH_BACKUP_MB (default 100) is the dump's size in MB; a smoke run (test/e2e/bench-smoke.test.ts) is
// BENCH_BACKUP_MB=3. Both scratch databases and the bucket (every object version) are dropped at the end.
import { spawn } from "node:child_process";
import {
  closeSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { DEFAULT_KEY_TEMPLATE } from "../lib/backup-keys";
import { downloadVerified, uploadStream, type BackupSource } from "../lib/backup-objects";
import { withClient, type PostgresConnection } from "../lib/postgres";
import { createDatabase, dropDatabase } from "../lib/postgres-backup";
import { backupDatabase, jobDestination, parseBackupJob } from "../ops/backup";
import { tableDigest, withPostgresSide, type ReconciledTable } from "../lib/reconcile";
import { chooseDatabaseBackup, restoreDatabase } from "../ops/restore";
import { harness } from "../test/harness";

const MB = Number(process.env.BENCH_BACKUP_MB ?? 100);
/** Customers per MB of dump (each with two orders): about 1.09 MiB of custom format, measured on PostgreSQL 15. */
const CUSTOMERS_PER_MB = 11_500;
const DATABASE = "cdc_bench_backup";
const RESTORED = "cdc_bench_restore";
const run = Date.now().toString(36);
const bucketName = `cdc-bench-backup-${run}`;

const server: PostgresConnection = { ...harness.source, database: "postgres", password: harness.pgPassword };
const benchDb: PostgresConnection = { ...server, database: DATABASE };
const pgTool = (name: string) => (process.env.CDC_PG_BIN ? path.join(process.env.CDC_PG_BIN, name) : name);
const connectionArgs = (database: string) => [
  "-h",
  server.host,
  "-p",
  String(server.port),
  "-U",
  server.user,
  "-d",
  database,
];

const TABLES = [
  {
    schema: "inventory",
    name: "customers",
    columns: [
      { name: "id", type: "integer", nullable: false },
      { name: "name", type: "text", nullable: false },
      { name: "email", type: "text" },
    ],
    primaryKey: ["id"],
  },
  {
    schema: "inventory",
    name: "orders",
    columns: [
      { name: "id", type: "integer", nullable: false },
      { name: "customer_id", type: "integer", nullable: false },
      { name: "amount", type: "numeric(10,2)", nullable: false },
      { name: "ordered_at", type: "timestamp with time zone", nullable: false },
    ],
    primaryKey: ["id"],
  },
];
const reconciled: ReconciledTable[] = TABLES.map((t) => ({
  source: { schema: t.schema, name: t.name },
  target: { schema: t.schema, name: t.name },
  columns: t.columns.map(({ name, type }) => ({ name, type })),
  primaryKey: t.primaryKey,
}));

const sql = (conn: PostgresConnection, text: string) => withClient(conn, (c) => c.query(text));

/** Runs a PostgreSQL tool with the password in its environment; stdout to `stdoutFd`, or ignored. */
function tool(name: string, args: string[], stdoutFd?: number): Promise<void> {
  const child = spawn(pgTool(name), args, {
    env: { ...process.env, PGPASSWORD: server.password },
    stdio: ["ignore", stdoutFd ?? "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${name} failed: ${stderr.trim()}`))));
  });
}

/** The flags backupDatabase gives pg_dump, but its snapshot. */
const dumpArgs = [...connectionArgs(DATABASE), "--format=custom", "--no-publications", "--no-subscriptions"];

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - start) / 1000 };
}

/** Resets the kernel's high-water mark of this process's RSS (VmHWM); false where that is not allowed. */
function resetHighWaterMark(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}
const highWaterMark = () => Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1]) * 1024;

interface Measured<T> {
  result: T;
  seconds: number;
  baseMb: number;
  /** Peak RSS above the baseline, sampled every 50 ms. */
  peakMb: number;
  /** The same from the kernel's high-water mark, which no sample can miss (undefined where unreadable). */
  hwmMb?: number;
}

/** Runs `work` with its wall time and the peak resident memory above the start. */
async function measured<T>(work: () => Promise<T>): Promise<Measured<T>> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  const hwm = resetHighWaterMark();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const { result, seconds } = await timed(work);
    peak = Math.max(peak, process.memoryUsage().rss);
    const above = (bytes: number) => (bytes - base) / 2 ** 20;
    return {
      result,
      seconds,
      baseMb: base / 2 ** 20,
      peakMb: above(peak),
      hwmMb: hwm ? above(highWaterMark()) : undefined,
    };
  } finally {
    clearInterval(sampler);
  }
}

async function fill(customers: number): Promise<void> {
  await dropDatabase(server, DATABASE);
  await createDatabase(server, DATABASE);
  await sql(
    benchDb,
    `CREATE SCHEMA inventory;
     CREATE TABLE inventory.customers (id integer NOT NULL, name text NOT NULL, email text);
     CREATE TABLE inventory.orders (id integer NOT NULL, customer_id integer NOT NULL, amount numeric(10,2) NOT NULL,
       ordered_at timestamptz NOT NULL DEFAULT now())`,
  );
  // md5 of random(): hex text that zlib cannot shrink much. The keys come after the rows (faster than during).
  await Promise.all([
    sql(
      benchDb,
      `INSERT INTO inventory.customers SELECT g, md5(random()::text) || md5(random()::text),
         md5(random()::text) || '@example.com' FROM generate_series(1, ${customers}) g;
       ALTER TABLE inventory.customers ADD PRIMARY KEY (id)`,
    ),
    sql(
      benchDb,
      `INSERT INTO inventory.orders SELECT g, 1 + (g % ${customers}), round((random() * 10000)::numeric, 2),
         now() - random() * interval '365 days' FROM generate_series(1, ${2 * customers}) g;
       ALTER TABLE inventory.orders ADD PRIMARY KEY (id)`,
    ),
  ]);
  // Hint bits and statistics set now, and the pages written out, so that no measure pays for them.
  await sql(benchDb, "VACUUM (FREEZE, ANALYZE)");
  await sql(server, "CHECKPOINT");
}

/** Deletes every version, delete marker and unfinished upload in the scratch bucket, then the bucket. */
async function emptyBucket(client: S3Client): Promise<void> {
  const Bucket = bucketName;
  for (;;) {
    const { Uploads = [] } = await client.send(new ListMultipartUploadsCommand({ Bucket }));
    if (Uploads.length === 0) break;
    for (const u of Uploads) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId }));
    }
  }
  for (;;) {
    const page = await client.send(new ListObjectVersionsCommand({ Bucket }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key,
      VersionId: v.VersionId,
    }));
    if (objects.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: objects, Quiet: true } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket }));
}

async function main(): Promise<void> {
  if (!(MB > 0)) throw new Error(`BENCH_BACKUP_MB: a number of MB > 0, not ${process.env.BENCH_BACKUP_MB}`);
  const customers = Math.max(1, Math.round(MB * CUSTOMERS_PER_MB));
  const job = parseBackupJob(
    {
      stack: "bench",
      source: { engine: "postgres", host: server.host, port: server.port, database: DATABASE, user: server.user },
      tables: TABLES,
      topicPrefix: "bench",
      connectUrl: harness.connectUrl,
      backups: { bucket: bucketName, endpoint: harness.env.CDC_S3_ENDPOINT, keyTemplate: DEFAULT_KEY_TEMPLATE },
    },
    { CDC_SOURCE_PASSWORD: server.password },
  );
  const dest = jobDestination(job);
  const dir = mkdtempSync(path.join(tmpdir(), "cdc-bench-backup-"));
  let bucketMade = false;
  try {
    const load = await timed(() => fill(customers));
    const dbSize = await withClient(benchDb, async (c) =>
      Number((await c.query<{ b: string }>("SELECT pg_database_size(current_database()) AS b")).rows[0].b),
    );
    await dest.client.send(new CreateBucketCommand({ Bucket: bucketName }));
    bucketMade = true;

    // The warm-up: the database read once before any measure; it writes the local copy the upload alone reads.
    const local = path.join(dir, "local.dump");
    await tool("pg_dump", [...dumpArgs, "-f", local]);
    const localBytes = statSync(local).size;
    const dumpToNull = async () => {
      const devNull = openSync("/dev/null", "w");
      return timed(() => tool("pg_dump", dumpArgs, devNull)).finally(() => closeSync(devNull));
    };
    const dumpFloors = [await dumpToNull()];
    const digest = await timed(() =>
      withPostgresSide(benchDb, async (side) => {
        for (const t of reconciled) await tableDigest(side, t);
      }),
    );
    const backup = await measured(() => backupDatabase(job, dest));
    const manifest = backup.result;
    dumpFloors.push(await dumpToNull());
    // The same bytes from the local copy: the upload's share (a key no backup listing matches).
    const upload = await timed(() => uploadStream(dest, `bench/${run}.dump`, createReadStream(local)));

    // The restore floor: pg_restore as restoreDatabase runs it, into a new database, of the backup's own bytes
    // downloaded beforehand. Each restore starts after a checkpoint, so that none flushes what came before it.
    const downloaded = path.join(dir, "downloaded.dump");
    await downloadVerified(dest.client, bucketName, manifest, downloaded);
    const restoreLocal = async () => {
      await sql(server, "CHECKPOINT");
      const floor = await timed(async () => {
        await createDatabase(server, RESTORED);
        await tool("pg_restore", [...connectionArgs(RESTORED), "--no-owner", "--exit-on-error", downloaded]);
      });
      await dropDatabase(server, RESTORED);
      return floor;
    };
    const restoreFloors = [await restoreLocal()];
    const source: BackupSource = { client: dest.client, bucket: bucketName, keyTemplate: DEFAULT_KEY_TEMPLATE };
    const chosen = await chooseDatabaseBackup(source);
    if (chosen.key !== manifest.key) throw new Error(`chooseDatabaseBackup chose ${chosen.key}, not ${manifest.key}`);
    await sql(server, "CHECKPOINT");
    const restore = await timed(() => restoreDatabase(server, source, chosen, RESTORED));
    const verify = await timed(() =>
      withPostgresSide({ ...server, database: RESTORED }, async (side) => {
        let same = 0;
        for (const t of reconciled) {
          const want = chosen.source?.tables[`${t.source.schema}.${t.source.name}`];
          const got = await tableDigest(side, t);
          if (got.rows === want?.rows && got.hash === want.hash) same++;
        }
        return same;
      }),
    );
    await dropDatabase(server, RESTORED);
    restoreFloors.push(await restoreLocal());

    const best = (runs: { seconds: number }[]) => Math.min(...runs.map((r) => r.seconds));
    const both = (runs: { seconds: number }[]) => runs.map((r) => r.seconds.toFixed(1)).join(" and ");
    const dumpFloor = best(dumpFloors);
    const restoreFloor = best(restoreFloors);
    const mb = (bytes: number) => bytes / 2 ** 20;
    const rate = (bytes: number, s: number) => `${(mb(bytes) / s).toFixed(1)} MB/s`;
    const rows = (n: number) => n.toLocaleString("en");
    console.log(
      `backup and restore of ${DATABASE}, ${rows(customers)} customers + ${rows(2 * customers)} orders ` +
        `(${mb(dbSize).toFixed(0)} MB on disk, loaded in ${load.seconds.toFixed(1)} s), ` +
        `custom-format dump ${mb(manifest.size).toFixed(1)} MB (MB = 2^20 bytes):`,
    );
    console.log(
      `  floor: pg_dump -Fc > /dev/null    ${dumpFloor.toFixed(1)} s (${rate(localBytes, dumpFloor)}), ` +
        `the faster of ${both(dumpFloors)} s`,
    );
    console.log(
      `  backupDatabase to S3, 8 MiB parts ${backup.seconds.toFixed(1)} s (${rate(manifest.size, backup.seconds)}), ` +
        `${(backup.seconds / dumpFloor).toFixed(2)}x the floor, ` +
        `peak RSS +${backup.peakMb.toFixed(0)} MB over ${backup.baseMb.toFixed(0)} MB` +
        (backup.hwmMb === undefined ? "" : ` (high-water mark +${backup.hwmMb.toFixed(0)} MB)`),
    );
    console.log(`    count + hash it does first      ${digest.seconds.toFixed(1)} s (timed apart)`);
    console.log(
      `    its upload alone, a local file  ${upload.seconds.toFixed(1)} s (${rate(upload.result.size, upload.seconds)})`,
    );
    console.log(
      `  floor: pg_restore of a local file ${restoreFloor.toFixed(1)} s, the faster of ${both(restoreFloors)} s`,
    );
    console.log(
      `  restoreDatabase from S3           ${restore.seconds.toFixed(1)} s, ` +
        `${(restore.seconds / restoreFloor).toFixed(2)}x the floor`,
    );
    console.log(
      `  verify (count + hash, restored)   ${verify.seconds.toFixed(1)} s, ` +
        `${verify.result} of ${reconciled.length} tables match the manifest`,
    );
  } finally {
    const cleanup = async (what: string, work: () => Promise<unknown>) =>
      work().catch((err: Error) => console.error(`cleanup, ${what}: ${err.message}`));
    await cleanup(RESTORED, () => dropDatabase(server, RESTORED));
    await cleanup(DATABASE, () => dropDatabase(server, DATABASE));
    if (bucketMade) await cleanup(`bucket ${bucketName}`, () => emptyBucket(dest.client));
    dest.client.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

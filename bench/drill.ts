// Benchmark of the two-site drill (scripts/sites.sh: the sites must be up), with the real CLI through the
// Automation API. Prints figures; asserts nothing. For each size of BENCH_DRILL_ROWS (default 100000,1000000):
//   1. the primary's source holds that many customers, its target rebuilt from them (pipeline.rebuild);
//   2. a database backup of the primary reaches its replica bucket (the stand-in for S3 replication);
//   3. a writer inserts 20 rows/s on the primary, and `drill` (ops/drill.ts, as the command runs it) cuts the
//      primary off (scripts/sites.sh cut), fails over to site-dr from the replica, heals the primary, fences
//      it and fails back.
// Each step's RTO and RPO are printed beside floors measured in the same run: a no-op `pulumi up` of the
// stack (what the CLI and program cost with nothing to do) and pg_restore of the same dump from a local file
// into a scratch database (what the restore cannot beat).
// Run: npm run bench:drill (as root: network namespaces). It starts sites of its own (in a directory of its
// own) with a state backend of its own, and removes both at the end. With BENCH_PULUMI_BACKEND_URL it uses
// that backend's site stacks on the sites that CDC_SITES_DIR names, as they are, and leaves them up: the
// smoke run in test/sites reuses the test's, with BENCH_DRILL_FAILBACK=0 (the failover only).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { Client } from "pg";
import { PROJECT } from "../config";
import { downloadVerified, type BackupManifest } from "../lib/backup-objects";
import { clientConfig, withClient } from "../lib/postgres";
import { createDatabase, dropDatabase, restoreDump } from "../lib/postgres-backup";
import { describeSwitch, runDrill } from "../ops/drill";
import { backupSource, openStack, sourceConnection, stackBuckets, type StackSite } from "../ops/stacks";
import { backUpToReplica } from "../test/fixtures/backups";
import { PROJECT_DIR, pulumiEnv } from "../test/harness";

const SIZES = (process.env.BENCH_DRILL_ROWS ?? "100000,1000000").split(",").map(Number);
const FAILBACK = process.env.BENCH_DRILL_FAILBACK !== "0";
const WRITES_PER_SECOND = 20;
const SITES = `bash ${path.join(PROJECT_DIR, "scripts/sites.sh")}`;

const seconds = (start: number) => (performance.now() - start) / 1000;
const fmt = (s: number) => `${s.toFixed(1)} s`;
const ratio = (s: number, floor: number) => `${(s / floor).toFixed(1)}x the floor`;

/** The primary's customers: `rows` of them, ids from 1; the rest of the table emptied. */
async function seed(site: StackSite, rows: number): Promise<void> {
  await withClient(sourceConnection(site), async (c) => {
    await c.query("TRUNCATE inventory.orders, inventory.customers");
    await c.query(
      "INSERT INTO inventory.customers SELECT i, 'customer ' || i, i || '@example.com' FROM generate_series(1, $1) i",
      [rows],
    );
  });
}

/** Writes one customer after another above `first`, WRITES_PER_SECOND a second, until the site is cut off. */
async function writeUntilCut(site: StackSite, first: number): Promise<number> {
  const client = new Client({
    ...clientConfig(sourceConnection(site)),
    connectionTimeoutMillis: 3000,
    query_timeout: 3000,
  });
  client.on("error", () => undefined);
  let written = 0;
  try {
    await client.connect();
    for (const started = performance.now(); ; written++) {
      await client.query("INSERT INTO inventory.customers VALUES ($1, 'late', NULL)", [first + written]);
      const due = started + ((written + 1) * 1000) / WRITES_PER_SECOND;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
  } catch {
    return written;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * pg_restore of the primary's backup from a local file into a scratch database of `site`'s source server (the
 * site serving now: with no failback the primary is still cut off).
 */
async function restoreFloor(primary: StackSite, site: StackSite, manifest: BackupManifest): Promise<number> {
  const { replica } = await stackBuckets(primary);
  const source = backupSource(primary, replica!);
  const dir = mkdtempSync(path.join(tmpdir(), "cdc-bench-drill-"));
  const server = sourceConnection(site);
  const scratch = "cdc_bench_drill_floor";
  try {
    const file = path.join(dir, "backup.dump");
    await downloadVerified(source.client, source.bucket, manifest, file);
    await dropDatabase(server, scratch);
    await createDatabase(server, scratch);
    const start = performance.now();
    await restoreDump(server, scratch, file);
    return seconds(start);
  } finally {
    source.client.destroy();
    await dropDatabase(server, scratch);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function noOpUp(site: StackSite): Promise<number> {
  const start = performance.now();
  await site.stack.up();
  return seconds(start);
}

async function main(): Promise<void> {
  for (const n of SIZES) if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_DRILL_ROWS: sizes >= 1, not ${n}`);
  const ownBackend = process.env.BENCH_PULUMI_BACKEND_URL === undefined;
  // Stacks of its own get sites of their own, in a directory of their own, removed at the end.
  const sitesDir = ownBackend ? mkdtempSync(path.join(tmpdir(), "cdc-bench-sites-")) : undefined;
  if (sitesDir) {
    // The clusters run as the postgres user, who must reach their directories under it.
    chmodSync(sitesDir, 0o755);
    process.env.CDC_SITES_DIR = sitesDir;
  }
  const up = spawnSync("bash", ["-c", `${SITES} up`], { stdio: "inherit" });
  if (up.status !== 0) throw new Error("scripts/sites.sh up failed");
  const backendDir = ownBackend ? mkdtempSync(path.join(tmpdir(), "cdc-bench-state-")) : undefined;
  const project = {
    workDir: PROJECT_DIR,
    envVars: pulumiEnv(process.env.BENCH_PULUMI_BACKEND_URL ?? `file://${backendDir}`),
  };
  // The drill records its rebuild tokens in the stacks' config files: put them back at the end.
  const configFiles = ["Pulumi.site-primary.yaml", "Pulumi.site-dr.yaml"].map((f) => path.join(PROJECT_DIR, f));
  const saved = configFiles.map((f) => readFileSync(f, "utf8"));
  try {
    if (ownBackend) {
      for (const stackName of ["site-primary", "site-dr"])
        await LocalWorkspace.createStack({ stackName, workDir: PROJECT_DIR }, project);
    }
    const primary = await openStack(project, "site-primary");
    const dr = await openStack(project, "site-dr");
    console.log("two-site drill (scripts/sites.sh), real Pulumi CLI, primary cut off by nftables:");
    for (const rows of SIZES) {
      await seed(primary, rows);
      // An empty target filled by a snapshot of the seeded rows.
      await primary.stack.setConfig(`${PROJECT}:pipeline.rebuild`, { value: `bench-${rows}-${Date.now()}` }, true);
      await primary.stack.up({ refresh: true });
      const backup = await backUpToReplica(primary, 600_000);
      const writing = writeUntilCut(primary, rows + 1);
      // Some rows written after the backup: the RPO the drill measures.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const report = await runDrill(primary, dr, {
        cutPrimary: `${SITES} cut primary`,
        healPrimary: `${SITES} heal primary`,
        failback: FAILBACK,
        force: true,
        settleMs: 10_000,
        catchUpTimeoutMs: 1_800_000,
      });
      const late = await writing;
      const serving = FAILBACK ? primary : dr;
      const floorRestore = await restoreFloor(primary, serving, backup);
      const floorUp = await noOpUp(serving);
      const { failover, failback } = report;
      console.log(
        `${rows.toLocaleString("en-US")} rows (dump ${(backup.size / 1e6).toFixed(1)} MB), ${late} rows written during the drill:`,
      );
      console.log(
        `  floor: pg_restore of the dump from a local file ${fmt(floorRestore)}; no-op pulumi up ${fmt(floorUp)}`,
      );
      console.log(`  failover  ${describeSwitch(failover)}`);
      console.log(
        `            restore ${ratio(failover.phases.restore, floorRestore)}, pulumi up ${ratio(failover.phases.up, floorUp)}`,
      );
      if (failback) {
        console.log(`  failback  ${describeSwitch(failback.switched)}`);
        console.log(
          `            restore ${ratio(failback.switched.phases.restore, floorRestore)}, pulumi up ${ratio(failback.switched.phases.up, floorUp)}`,
        );
      }
      console.log(
        `  reconciled: DR ${report.drReconciled.status}` +
          (report.failback ? `, primary ${report.failback.reconciled.status}` : "") +
          `; ok ${report.ok}`,
      );
    }
  } finally {
    spawnSync("bash", ["-c", sitesDir ? `${SITES} down` : `${SITES} heal primary`], { stdio: "ignore" });
    configFiles.forEach((f, i) => writeFileSync(f, saved[i]));
    for (const dir of [backendDir, sitesDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

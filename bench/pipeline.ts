// Benchmark of the whole stack on the harness, with the real CLI through the Automation API. Prints figures;
// asserts nothing.
//   1. `pulumi up` of the local stack from nothing (empty state backend);
//   2. a no-op `pulumi preview`, and a no-op `pulumi preview --refresh` (median of 3 each);
//   3. the drift check (ops/drift.ts, as `npm run drift` runs it) on the clean stack and with a connector
//      paused by hand (median of 3 each);
//   4. the DR drill: failover to local-dr and failback, each with its RTO.
// Run: npm run bench:pipeline (the harness must be up: scripts/services.sh up). It uses a state backend of
// its own and destroys both stacks at the end. A smoke run (test/e2e/bench-smoke.test.ts) goes through each
// step once: BENCH_ROUNDS=1 (rounds per median, default 3) BENCH_FAILBACK=0 (no failback, the same switch
// as the failover the other way, nor the repair of the paused connector before it).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import axios from "axios";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { checkDrift } from "../ops/drift";
import { backUpAndRestore, describeSwitch, restoreFromReplica, switchSite } from "../ops/drill";
import { openStack } from "../ops/stacks";
import { backUpToReplica } from "../test/fixtures/backups";
import { harness, PROJECT_DIR, pulumiEnv } from "../test/harness";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FAILBACK = process.env.BENCH_FAILBACK !== "0";

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (s: number) => `${s.toFixed(1)} s`;

async function main(): Promise<void> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS: a whole number >= 1, not ${ROUNDS}`);
  const backendDir = mkdtempSync(path.join(tmpdir(), "cdc-bench-state-"));
  const project = { workDir: PROJECT_DIR, envVars: pulumiEnv(`file://${backendDir}`) };
  // The drill records its rebuild tokens in the stacks' config files: put them back at the end.
  const configFiles = ["Pulumi.local.yaml", "Pulumi.local-dr.yaml"].map((f) => path.join(PROJECT_DIR, f));
  const saved = configFiles.map((f) => readFileSync(f, "utf8"));
  // openStack opens existing stacks only: create both in the empty backend first.
  for (const stackName of ["local", "local-dr"])
    await LocalWorkspace.createStack({ stackName, workDir: PROJECT_DIR }, project);
  const primary = await openStack(project, "local");
  const dr = await openStack(project, "local-dr");
  try {
    const upFromNothing = await timed(() => primary.stack.up());
    const previews: number[] = [];
    const refreshPreviews: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      previews.push(await timed(() => primary.stack.preview({ expectNoChanges: true })));
      refreshPreviews.push(await timed(() => primary.stack.preview({ refresh: true, expectNoChanges: true })));
    }
    const check = async (expected: string) => {
      const report = await checkDrift({ stack: "local", cwd: PROJECT_DIR, env: project.envVars });
      if (report.status !== expected) throw new Error(`drift check: ${report.status}, expected ${expected}`);
      return report.seconds;
    };
    const cleanChecks: number[] = [];
    const driftChecks: number[] = [];
    const rest = axios.create({ baseURL: harness.connectUrl, headers: { "Content-Type": "application/json" } });
    for (let i = 0; i < ROUNDS; i++) cleanChecks.push(await check("clean"));
    await rest.put("/connectors/local-sink/pause");
    for (let i = 0; i < ROUNDS; i++) driftChecks.push(await check("drift"));
    // The repair matters to the failback only (the failover reads the primary's source, not its sink).
    if (FAILBACK) await primary.stack.up({ refresh: true });

    // The primary's last backup before the disaster, once the stand-in for S3 replication has copied it.
    await backUpToReplica(primary);
    const failover = await switchSite(primary, dr, { restore: restoreFromReplica });
    const failback = FAILBACK ? await switchSite(dr, primary, { restore: backUpAndRestore }) : undefined;

    console.log("local stack on the harness (10 resources), real Pulumi CLI:");
    console.log(`  pulumi up from nothing            ${fmt(upFromNothing)}`);
    console.log(`  no-op pulumi preview              ${fmt(median(previews))} (median of ${ROUNDS})`);
    console.log(`  no-op pulumi preview --refresh    ${fmt(median(refreshPreviews))} (median of ${ROUNDS})`);
    console.log(`  drift check, clean                ${fmt(median(cleanChecks))} (median of ${ROUNDS})`);
    console.log(`  drift check, a connector paused   ${fmt(median(driftChecks))} (median of ${ROUNDS})`);
    console.log("DR drill (restore the newest backup at the other site, pulumi up --refresh, wait for every row):");
    console.log(`  failover  ${describeSwitch(failover)}`);
    if (failback) console.log(`  failback  ${describeSwitch(failback)}`);
  } finally {
    await dr.stack.destroy().catch((err: Error) => console.error(`destroy local-dr: ${err.message}`));
    await primary.stack.destroy().catch((err: Error) => console.error(`destroy local: ${err.message}`));
    configFiles.forEach((f, i) => writeFileSync(f, saved[i]));
    rmSync(backendDir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

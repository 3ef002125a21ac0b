// Benchmark of the whole stack on the harness, with the real CLI through the Automation API. Prints figures;
// asserts nothing.
//   1. `pulumi up` of the local stack from nothing (empty state backend);
//   2. a no-op `pulumi preview`, and a no-op `pulumi preview --refresh` (median of 3 each);
//   3. the drift check (ops/drift.ts, as `npm run drift` runs it) on the clean stack and with a connector
//      paused by hand (median of 3 each).
// The DR drill has a benchmark of its own, on two sites: bench/drill.ts.
// Run: npm run bench:pipeline (the harness must be up: scripts/services.sh up). It uses a state backend of
// its own and destroys the stack at the end. A smoke run (test/e2e/bench-smoke.test.ts) goes through each
// step once: BENCH_ROUNDS=1 (rounds per median, default 3).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import axios from "axios";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { checkDrift } from "../ops/drift";
import { openStack } from "../ops/stacks";
import { harness, PROJECT_DIR, pulumiEnv } from "../test/harness";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

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
  // openStack opens existing stacks only: create it in the empty backend first.
  await LocalWorkspace.createStack({ stackName: "local", workDir: PROJECT_DIR }, project);
  const primary = await openStack(project, "local");
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

    console.log("local stack on the harness (11 resources), real Pulumi CLI:");
    console.log(`  pulumi up from nothing            ${fmt(upFromNothing)}`);
    console.log(`  no-op pulumi preview              ${fmt(median(previews))} (median of ${ROUNDS})`);
    console.log(`  no-op pulumi preview --refresh    ${fmt(median(refreshPreviews))} (median of ${ROUNDS})`);
    console.log(`  drift check, clean                ${fmt(median(cleanChecks))} (median of ${ROUNDS})`);
    console.log(`  drift check, a connector paused   ${fmt(median(driftChecks))} (median of ${ROUNDS})`);
  } finally {
    await primary.stack.destroy().catch((err: Error) => console.error(`destroy local: ${err.message}`));
    rmSync(backendDir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

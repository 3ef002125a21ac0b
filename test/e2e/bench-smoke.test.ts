// The benchmarks (`npm run bench:*`) never run in `npm test`: here each runs once at its smallest size, so a
// benchmark that no longer runs, or no longer prints its figures, fails a test. No figure is judged. In the
// e2e project, one file at a time: bench:pipeline deploys the local stack (in a state backend of its own)
// with its connector names on the harness's worker, as the other end-to-end tests do. bench:drill's smoke
// run needs the two sites: test/sites/two-site-drill.test.ts.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../harness";

/** Runs `npm run -s bench:NAME` with the size settings; expects exit 0 and returns what it printed. */
function bench(name: string, sizes: Record<string, string>): string {
  const started = performance.now();
  const result = spawnSync("npm", ["run", "-s", `bench:${name}`], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    env: { ...process.env, ...sizes },
    timeout: 300_000,
  });
  const output = result.stdout + result.stderr;
  expect(result.status, output).toBe(0);
  console.log(`bench:${name} (${JSON.stringify(sizes)}) ran in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result.stdout;
}

const seconds = String.raw`\d+(\.\d+)? s`;

describe("benchmark smoke runs", () => {
  it("bench:connectors with one create per median and one connector", () => {
    const out = bench("connectors", { BENCH_ROUNDS: "1", BENCH_CONNECTORS: "1" });
    expect(out).toContain("create-to-RUNNING, median of 1:");
    expect(out).toMatch(/^ {2}raw PUT \+ status polling \(100 ms\) : \d+ ms$/m);
    expect(out).toMatch(/^ {2}KafkaConnector check \+ create {5}: \d+ ms$/m);
    expect(out).toContain("no-op pulumi preview --refresh (real CLI):");
    expect(out).toMatch(new RegExp(String.raw`^ {4}1 connectors: ${seconds}, \d+ HTTP requests$`, "m"));
  });

  it("bench:reconcile on 1,000 rows", () => {
    const out = bench("reconcile", { ROWS: "1000" });
    expect(out).toContain("reconcile, 1,000 rows x 8 columns on each side");
    expect(out).toMatch(new RegExp(String.raw`^ {2}full match +${seconds} \([\d,]+ rows/s\), peak`, "m"));
    // Ten rows differ: the benchmark's own check that it compared what it meant to.
    expect(out).toMatch(new RegExp(String.raw`^ {2}10 differing rows +${seconds}, found 10 by key`, "m"));
    expect(out).toMatch(new RegExp(String.raw`^ {2}baseline \(client-side\) ${seconds} .*, found 10,`, "m"));
  });

  it("bench:backup of a 3 MB dump", () => {
    const out = bench("backup", { BENCH_BACKUP_MB: "3" });
    expect(out).toMatch(
      /^backup and restore of cdc_bench_backup, 34,500 customers \+ 69,000 orders .*, custom-format dump [\d.]+ MB/m,
    );
    const rate = String.raw`\([\d.]+ MB/s\)`;
    const ratio = String.raw`[\d.]+x the floor`;
    for (const line of [
      String.raw`floor: pg_dump -Fc > /dev/null +${seconds} ${rate}, the faster of`,
      String.raw`backupDatabase to S3, 8 MiB parts ${seconds} ${rate}, ${ratio}, peak RSS \+\d+ MB over \d+ MB`,
      String.raw` {2}count \+ hash it does first +${seconds} \(timed apart\)`,
      String.raw` {2}its upload alone, a local file +${seconds} ${rate}`,
      String.raw`floor: pg_restore of a local file ${seconds}, the faster of`,
      String.raw`restoreDatabase from S3 +${seconds}, ${ratio}$`,
    ]) {
      expect(out).toMatch(new RegExp(String.raw`^ {2}${line}`, "m"));
    }
    // The restored copy holds what the manifest recorded: the benchmark restored what it backed up.
    expect(out).toMatch(
      new RegExp(String.raw`^ {2}verify \(count \+ hash, restored\) +${seconds}, 2 of 2 tables match`, "m"),
    );
  });

  it("bench:pipeline with one round per median", () => {
    const out = bench("pipeline", { BENCH_ROUNDS: "1" });
    for (const step of [
      "pulumi up from nothing",
      "no-op pulumi preview",
      "no-op pulumi preview --refresh",
      "drift check, clean",
      "drift check, a connector paused",
    ]) {
      expect(out).toMatch(new RegExp(String.raw`^ {2}${step} +${seconds}`, "m"));
    }
  });
});

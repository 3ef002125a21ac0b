// The last line of `npm test` (scripts/lib/summarize-vitest.ts) counts tests, not the describe blocks around a
// failed one, and still fails the run for a file that broke outside any test.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(path.join(tmpdir(), "cdc-summarize-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SCRIPT = path.join(__dirname, "../../scripts/lib/summarize-vitest.ts");

/** Runs the summary over one JSON report as vitest writes it; its exit code and last line. */
function summarize(report: Record<string, unknown>): { status: number | null; last: string } {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(report));
  const run = spawnSync(process.execPath, [SCRIPT, file], { encoding: "utf8" });
  return { status: run.status, last: run.stdout.trim().split("\n").at(-1) ?? "" };
}

const counts = { numPendingTests: 1, numTodoTests: 0 };
const file = (name: string, status: string, tests: string[]) => ({
  name: path.join(process.cwd(), name),
  status,
  startTime: 0,
  endTime: 1000,
  assertionResults: tests.map((s) => ({ status: s })),
});

describe("summarize-vitest", () => {
  it("one failed test inside two describe blocks is one failure, not three", () => {
    const r = summarize({
      ...counts,
      numPassedTests: 2,
      numFailedTests: 1,
      numFailedTestSuites: 3,
      testResults: [file("test/e2e/a.test.ts", "failed", ["passed", "failed", "passed"])],
    });
    expect(r).toEqual({ status: 1, last: "tests: 2 passed, 1 failed, 1 skipped" });
  });

  it("a file that failed outside any test (import or hook) fails the run and is named as such", () => {
    const r = summarize({
      ...counts,
      numPassedTests: 4,
      numFailedTests: 0,
      numFailedTestSuites: 1,
      testResults: [file("test/e2e/a.test.ts", "passed", ["passed"]), file("test/e2e/b.test.ts", "failed", [])],
    });
    expect(r).toEqual({ status: 1, last: "tests: 4 passed, 0 failed, 1 skipped, 1 file(s) failed outside any test" });
  });

  it("passes when every test passed, and fails when none ran", () => {
    const passed = { ...counts, numPassedTests: 3, numFailedTests: 0, numFailedTestSuites: 0 };
    expect(summarize({ ...passed, testResults: [file("x.test.ts", "passed", ["passed"])] }).status).toBe(0);
    expect(summarize({ ...passed, numPassedTests: 0, testResults: [] }).status).toBe(1);
  });
});

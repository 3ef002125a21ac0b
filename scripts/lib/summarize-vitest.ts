// The end of `npm test` (scripts/test.sh): how long each test file (suite) took, slowest first, and each
// phase of the run (lint/format/types, unit, integration and e2e...), so the time budget stays in view; then
// one summary line over the vitest JSON reports, always the last: "tests: N passed, N failed, N skipped".
// Exits non-zero when a test failed or no test ran at all. Run by Node's own TypeScript stripping.
// Usage: summarize-vitest.ts [--phases FILE] REPORT.json... [REPORT.xml...]
//   REPORT.json: vitest's JSON reporter (the counts, and each file's status);
//   REPORT.xml: vitest's JUnit reporter of the same run, for each file's whole duration: its beforeAll and
//     afterAll hooks included (the JSON report's startTime/endTime span only the file's tests; without the
//     XML they are used);
//   FILE: one phase a line, "<seconds><TAB><name>", in the order they ran (scripts/test.sh writes it).
import { readFileSync } from "node:fs";
import * as path from "node:path";

interface VitestFileResult {
  /** The test file's absolute path. */
  name: string;
  status: string;
  /** Each test of the file and how it ended. */
  assertionResults?: { status: string }[];
  /** Epoch milliseconds; missing for a file that never ran. */
  startTime?: number;
  endTime?: number;
}

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults?: VitestFileResult[];
}

/** 12.3 s; from a minute on 4 min 05 s. */
function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "-";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
}

const args = process.argv.slice(2);
let phasesFile: string | undefined;
const reports: string[] = [];
const junitReports: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--phases") phasesFile = args[++i];
  else if (args[i].endsWith(".xml")) junitReports.push(args[i]);
  else reports.push(args[i]);
}

const unescapeXml = (text: string) =>
  text.replace(
    /&(lt|gt|quot|apos|amp);/g,
    (_m, e: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]!,
  );

/** Seconds per test file (relative to the project directory) from JUnit reports' <testsuite name= time=>. */
const junitSeconds = new Map<string, number>();
for (const file of junitReports) {
  for (const [, attributes] of readFileSync(file, "utf8").matchAll(/<testsuite\s([^>]*)>/g)) {
    const attr = Object.fromEntries(
      [...attributes.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1], unescapeXml(m[2])]),
    );
    if (attr.name && attr.time) junitSeconds.set(path.normalize(attr.name), Number(attr.time));
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
// Files that failed with no test failing: one that did not load, or a beforeAll/afterAll that threw. (Vitest's
// numFailedTestSuites counts every describe block around a failed test too, so it is no count of these.)
let brokenFiles = 0;
const suites: { file: string; seconds: number; status: string }[] = [];
for (const file of reports) {
  const report = JSON.parse(readFileSync(file, "utf8")) as VitestJsonReport;
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  for (const result of report.testResults ?? []) {
    const failedTests = (result.assertionResults ?? []).filter((t) => t.status === "failed").length;
    if (result.status === "failed" && failedTests === 0) brokenFiles++;
    const { startTime, endTime } = result;
    const relative = path.relative(process.cwd(), result.name);
    suites.push({
      file: relative,
      seconds: junitSeconds.get(relative) ?? (startTime && endTime ? (endTime - startTime) / 1000 : NaN),
      status: result.status,
    });
  }
}

const lines: string[] = [];
if (suites.length > 0) {
  // Files that never ran (no times) last.
  const key = (s: { seconds: number }) => (Number.isNaN(s.seconds) ? -1 : s.seconds);
  suites.sort((a, b) => key(b) - key(a));
  const width = Math.max(...suites.map((s) => formatSeconds(s.seconds).length));
  lines.push(`test files, slowest first (${suites.length}; files of a project may run in parallel):`);
  for (const s of suites) {
    const mark = s.status === "passed" ? "" : `  (${s.status})`;
    lines.push(`  ${formatSeconds(s.seconds).padStart(width)}  ${s.file}${mark}`);
  }
}
if (phasesFile !== undefined) {
  const phases = readFileSync(phasesFile, "utf8")
    .split("\n")
    .filter((line) => line.includes("\t"))
    .map((line) => {
      const [seconds, name] = line.split("\t");
      return { name, seconds: Number(seconds) };
    });
  if (phases.length > 0) {
    const total = phases.reduce((sum, p) => sum + p.seconds, 0);
    const width = Math.max(...[...phases.map((p) => p.seconds), total].map((s) => formatSeconds(s).length));
    lines.push("phases:");
    for (const p of phases) lines.push(`  ${formatSeconds(p.seconds).padStart(width)}  ${p.name}`);
    lines.push(`  ${formatSeconds(total).padStart(width)}  total`);
  }
}
const broken = brokenFiles > 0 ? `, ${brokenFiles} file(s) failed outside any test` : "";
lines.push(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped${broken}`);
console.log(lines.join("\n"));
process.exit(failed > 0 || brokenFiles > 0 || passed === 0 ? 1 : 0);

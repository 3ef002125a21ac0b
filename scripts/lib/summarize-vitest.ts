// Prints one summary line over vitest JSON reports: "tests: N passed, N failed, N skipped".
// Exits non-zero when a test failed or no test ran at all. Run by Node's own TypeScript stripping.
import { readFileSync } from "node:fs";

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numFailedTestSuites: number;
  numPendingTests: number;
  numTodoTests: number;
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(file, "utf8")) as VitestJsonReport;
  passed += report.numPassedTests;
  failed += report.numFailedTests + report.numFailedTestSuites;
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

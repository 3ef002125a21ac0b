// The GitHub Actions workflows, checked with actionlint (installed by scripts/services.sh install, with
// shellcheck for their shell steps), and what they must do: preview each stack with the policy pack and
// comment on the PR; check each stack for drift on a schedule with the project's own command.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { harness, PROJECT_DIR } from "../harness";

const WORKFLOWS = path.join(PROJECT_DIR, ".github/workflows");
const files = readdirSync(WORKFLOWS).map((f) => path.join(WORKFLOWS, f));
const scratch = mkdtempSync(path.join(tmpdir(), "cdc-workflows-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const actionlint = (...paths: string[]) =>
  spawnSync(harness.env.CDC_ACTIONLINT, ["-no-color", "-oneline", ...paths], { encoding: "utf8" });
const text = (name: string) => readFileSync(path.join(WORKFLOWS, name), "utf8");

describe("GitHub Actions workflows", () => {
  it("pass actionlint", () => {
    expect(files.map((f) => path.basename(f)).sort()).toEqual(["drift.yml", "preview.yml"]);
    const result = actionlint(...files);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("actionlint fails a broken workflow (an undefined matrix key, a shell error)", () => {
    const broken = path.join(scratch, "broken.yml");
    writeFileSync(
      broken,
      text("drift.yml")
        .replace('--stack "$STACK"', '--stack "$STACK" ${{ matrix.region }}')
        .replace('"$GITHUB_STEP_SUMMARY"', "$GITHUB_STEP_SUMMARY"),
    );
    const result = actionlint(broken);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('property "region" is not defined');
    expect(result.stdout).toContain("shellcheck reported issue");
  });

  it("preview every stack with refresh and the policy pack on pull requests, commenting the result", () => {
    const preview = text("preview.yml");
    expect(preview).toMatch(/on:\n {2}pull_request:/);
    expect(preview).toContain("stack: [dev, dr]");
    for (const setting of ["command: preview", "refresh: true", "policyPacks: policy", "comment-on-pr: true"]) {
      expect(preview).toContain(setting);
    }
  });

  it("check every stack for drift on a schedule with npm run drift, failing on drift or error", () => {
    const drift = text("drift.yml");
    expect(drift).toMatch(/on:\n {2}schedule:\n {4}- cron: /);
    expect(drift).toContain(`fromJSON(vars.DRIFT_STACKS || '["dev","dr"]')`);
    expect(drift).toContain("set -o pipefail");
    expect(drift).toContain('npm run -s drift -- --stack "$STACK"');
  });
});

// The GitHub Actions workflows, checked with actionlint (installed by scripts/services.sh install, with
// shellcheck for their shell steps), and what they must do: preview each stack with the policy pack and
// comment on the PR; check each stack for drift on a schedule with the project's own command; run the SQL
// Server live suites against SQL Server containers; deploy Pulumi.ci.yaml on the runner's Docker engine.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { load } from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { IMAGES } from "../../components/pipeline-containers";
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
    expect(files.map((f) => path.basename(f)).sort()).toEqual([
      "docker-stack.yml",
      "drift.yml",
      "preview.yml",
      "sqlserver-live.yml",
    ]);
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

  it("run every SQL Server live suite against SQL Server 2022 containers, one with its Agent and one without", () => {
    const live = text("sqlserver-live.yml");
    expect(live).toMatch(/on:\n {2}pull_request:[^]*\n {2}workflow_dispatch:/);
    // The image the containers' stack pins, twice.
    expect(live.match(/image: \S+/g)).toEqual([`image: ${IMAGES.sqlserver}`, `image: ${IMAGES.sqlserver}`]);
    expect(live).toContain('MSSQL_AGENT_ENABLED: "true"');
    expect(live).toContain('MSSQL_AGENT_ENABLED: "false"');
    expect(live).toContain('--health-cmd "/opt/mssql-tools18/bin/sqlcmd -C');
    expect(live).toContain("bash scripts/services.sh up");
    for (const variable of ["MSSQL_URL", "MSSQL_NO_AGENT_URL"]) expect(live).toContain(`echo "${variable}=mssql://`);
    const suites = readdirSync(path.join(PROJECT_DIR, "test/integration")).filter((f) =>
      /^sqlserver-.*live\.test\.ts$/.test(f),
    );
    expect(suites.sort()).toEqual([
      "sqlserver-backup-live.test.ts",
      "sqlserver-live.test.ts",
      "sqlserver-pipeline-live.test.ts",
    ]);
    for (const suite of suites) {
      expect(live).toContain(`npx vitest run --project integration test/integration/${suite}`);
    }
  });

  it("deploy Pulumi.ci.yaml in two steps (the containers, then all), send a row end to end, and destroy it", () => {
    const workflow = text("docker-stack.yml");
    expect(workflow).toContain("STACK: ci");
    expect(existsSync(path.join(PROJECT_DIR, "Pulumi.ci.yaml"))).toBe(true);
    // The URN of the containers' component: project, component type and name as the program declares them.
    const project = (load(readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    const type = "cdc-pipeline:index:PipelineContainers";
    expect(readFileSync(path.join(PROJECT_DIR, "components/pipeline-containers.ts"), "utf8")).toContain(
      `super("${type}", name`,
    );
    expect(readFileSync(path.join(PROJECT_DIR, "index.ts"), "utf8")).toContain('new PipelineContainers("services"');
    const containersOnly = `--target "urn:pulumi:\${STACK}::${project}::${type}**"`;
    // The database and table the stack captures, and the target database it writes to.
    const config = (
      load(readFileSync(path.join(PROJECT_DIR, "Pulumi.ci.yaml"), "utf8")) as { config: Record<string, unknown> }
    ).config;
    const sourceDb = (config["cdc-pipeline:source"] as { database: string }).database;
    const targetDb = (config["cdc-pipeline:target"] as { database: string }).database;
    const [table] = config["cdc-pipeline:tables"] as { schema: string; name: string; columns: { name: string }[] }[];
    const createTable = `CREATE TABLE ${table.schema}.${table.name} (`;
    // In this order: each found after the one before.
    const steps = [containersOnly, `CREATE DATABASE ${sourceDb}`, createTable, 'pulumi up --stack "$STACK" --yes'];
    const at: number[] = [];
    for (const step of steps) {
      at.push(workflow.indexOf(step, (at[at.length - 1] ?? -1) + 1));
      expect(at[at.length - 1], `"${step}" after the steps before it`).toBeGreaterThan(-1);
    }
    const columns = workflow.slice(at[2]).split("\n")[0];
    for (const column of table.columns) expect(columns).toContain(`${column.name} `);
    expect(workflow).toContain("docker exec -e SQLCMDPASSWORD services-sqlserver");
    expect(workflow).toContain(`docker exec services-postgres psql -U postgres -d ${targetDb}`);
    expect(workflow).toMatch(/if: always\(\)\n {8}run: \|\n[^]*pulumi destroy --stack "\$STACK" --yes/);
  });
});

// The drift check (`npm run drift`) with the real CLI on the local stack: each kind of change by hand is
// reported with its resource and field and exit code 1, `pulumi up --refresh` repairs it, and the check
// passes again; an unreachable service is an error (exit 2), not drift.
import axios from "axios";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DriftReport } from "../../ops/drift";
import { query } from "../connectors";
import { harness } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const rest = axios.create({ baseURL: harness.connectUrl, headers: { "Content-Type": "application/json" } });

/** `npm run drift -- --stack local` in the harness's CLI environment, on the private backend. */
const drift = (...options: string[]) =>
  backend.script("harness-env.sh", "npm", "run", "-s", "drift", "--", "--stack", "local", ...options);

const repair = () => backend.ok("up", "--stack", "local", "--yes", "--skip-preview", "--refresh");

beforeAll(() => {
  backend.ok("stack", "select", "local", "--create");
  backend.ok("up", "--stack", "local", "--yes", "--skip-preview");
});
afterAll(() => backend.dispose());

describe("npm run drift on the local stack", () => {
  it("passes on a stack as deployed", () => {
    const clean = drift();
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/^No drift on stack 'local': live state matches the program/m);
  });

  const cases: { what: string; change: () => Promise<unknown>; resource: string; line: RegExp }[] = [
    {
      what: "a connector's config edited over REST",
      change: async () => {
        const live = (await rest.get<Record<string, string>>("/connectors/local-source/config")).data;
        await rest.put("/connectors/local-source/config", { ...live, "snapshot.mode": "no_data" });
      },
      resource: "KafkaConnector 'pipeline-source': changed outside Pulumi (pulumi up would update it)",
      line: /config\.snapshot\.mode: live "no_data", declared "initial"/,
    },
    {
      what: "a connector paused",
      change: () => rest.put("/connectors/local-sink/pause"),
      resource: "KafkaConnector 'pipeline-sink': changed outside Pulumi (pulumi up would update it)",
      line: /state: live "paused", declared "running"/,
    },
    {
      what: "a connector deleted",
      change: () => rest.delete("/connectors/local-sink"),
      resource: "KafkaConnector 'pipeline-sink': deleted outside Pulumi (pulumi up would create it)",
      line: /pulumi up would create it/,
    },
    {
      what: "a table removed from the publication",
      change: () => query("source", "ALTER PUBLICATION local_publication DROP TABLE inventory.orders"),
      resource: "PostgresCdc 'pipeline-cdc': changed outside Pulumi (pulumi up would update it)",
      line: /publishedTables: live \["inventory.customers"\], last deployed \["inventory.customers","inventory.orders"\]/,
    },
    {
      what: "a target table altered by hand",
      change: () => query("target", "ALTER TABLE inventory.customers ALTER COLUMN name DROP NOT NULL"),
      resource: "PostgresSchema 'pipeline-schema': changed outside Pulumi (pulumi up would update it)",
      line: /live\[customers\]\.columns\[name\]\.nullable: live true, last deployed false/,
    },
  ];

  for (const { what, change, resource, line } of cases) {
    it(`fails on ${what}, naming the resource and the field; pulumi up --refresh repairs it`, async () => {
      await change();
      const found = drift();
      expect(found.status, found.stdout + found.stderr).toBe(1);
      expect(found.stdout).toMatch(/^Drift on stack 'local': 1 resource\(s\) differ/m);
      expect(found.stdout).toContain(resource);
      expect(found.stdout).toMatch(line);
      repair();
      const clean = drift();
      expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    });
  }

  it("reports drift as JSON for tooling", async () => {
    await rest.put("/connectors/local-source/pause");
    const found = drift("--json");
    expect(found.status).toBe(1);
    const report = JSON.parse(found.stdout) as DriftReport;
    expect(report).toMatchObject({ stack: "local", status: "drift", cliExitCode: 7 });
    expect(report.resources).toEqual([
      expect.objectContaining({
        name: "pipeline-source",
        kind: "changed outside Pulumi",
        fields: expect.arrayContaining([
          { path: "state", live: "paused", expected: "running", expectedFrom: "declared" },
        ]) as unknown,
      }),
    ]);
    repair();
  });

  it("reports an unreachable service as an error, not as drift", () => {
    expect(backend.script("services.sh", "down", "pg-target").status).toBe(0);
    try {
      const failed = drift();
      expect(failed.status, failed.stdout + failed.stderr).toBe(2);
      expect(failed.stdout).toMatch(/could not run \(pulumi exited \d+\).*this is an error, not drift/);
      expect(failed.stdout).toContain("127.0.0.1:55433/cdc_target");
    } finally {
      expect(backend.script("services.sh", "up", "pg-target").status).toBe(0);
    }
  });

  it("refuses bad arguments and unknown stacks as errors", () => {
    const noStack = backend.script("harness-env.sh", "npm", "run", "-s", "drift");
    expect(noStack.status).toBe(2);
    expect(noStack.stderr).toContain("required option '-s, --stack <name>' not specified");
    const unknown = backend.script("harness-env.sh", "npm", "run", "-s", "drift", "--", "--stack", "nosuch");
    expect(unknown.status).toBe(2);
    expect(unknown.stdout).toMatch(/could not run \(pulumi exited 6\).*\nerror: .*nosuch/s);
  });

  it("never printed a password", () => {
    expect(backend.transcript.join("\n")).not.toContain(harness.pgPassword);
  });
});

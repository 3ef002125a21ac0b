// The drift check (`npm run drift`) with the real CLI on the local stack: every kind of change by hand is
// reported with its resource and field and exit code 1, `pulumi up --refresh` repairs them, and the check
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

  // Every kind of change by hand at once, each on its own resource, so one drift run, one repair and one
  // clean run cover them all (a `pulumi preview --refresh` costs ~20 s on this stack).
  const changes: { what: string; change: () => Promise<unknown>; resource: string; lines: RegExp[] }[] = [
    {
      what: "a connector's config edited over REST, then the connector paused",
      change: async () => {
        const live = (await rest.get<Record<string, string>>("/connectors/local-source/config")).data;
        await rest.put("/connectors/local-source/config", { ...live, "snapshot.mode": "no_data" });
        await rest.put("/connectors/local-source/pause");
      },
      resource: "KafkaConnector 'pipeline-source': changed outside Pulumi (pulumi up would update it)",
      lines: [/config\.snapshot\.mode: live "no_data", declared "initial"/, /state: live "paused", declared "running"/],
    },
    {
      what: "a connector deleted",
      change: () => rest.delete("/connectors/local-sink"),
      resource: "KafkaConnector 'pipeline-sink': deleted outside Pulumi (pulumi up would create it)",
      lines: [],
    },
    {
      what: "a table removed from the publication",
      change: () => query("source", "ALTER PUBLICATION local_publication DROP TABLE inventory.orders"),
      resource: "PostgresCdc 'pipeline-cdc': changed outside Pulumi (pulumi up would update it)",
      lines: [
        /publishedTables: live \["inventory.customers","inventory.local_cdc_heartbeat","inventory.local_cdc_signal"\], last deployed \["inventory.customers","inventory.local_cdc_heartbeat","inventory.local_cdc_signal","inventory.orders"\]/,
      ],
    },
    {
      what: "a target table altered by hand",
      change: () => query("target", "ALTER TABLE inventory.customers ALTER COLUMN name DROP NOT NULL"),
      resource: "PostgresSchema 'pipeline-schema': changed outside Pulumi (pulumi up would update it)",
      lines: [/live\[customers\]\.columns\[name\]\.nullable: live true, last deployed false/],
    },
  ];

  describe(`after ${changes.map((c) => c.what).join("; ")}`, () => {
    beforeAll(async () => {
      for (const { change } of changes) await change();
    });

    it("fails naming every resource and field changed", () => {
      const found = drift();
      expect(found.status, found.stdout + found.stderr).toBe(1);
      expect(found.stdout).toMatch(
        new RegExp(`^Drift on stack 'local': ${changes.length} resource\\(s\\) differ`, "m"),
      );
      for (const { resource, lines } of changes) {
        expect(found.stdout).toContain(resource);
        for (const line of lines) expect(found.stdout).toMatch(line);
      }
    });

    it("reports the same drift as JSON for tooling", () => {
      const found = drift("--json");
      expect(found.status).toBe(1);
      const report = JSON.parse(found.stdout) as DriftReport;
      expect(report).toMatchObject({ stack: "local", status: "drift", cliExitCode: 7 });
      expect(report.resources.map((r) => r.name).sort()).toEqual([
        "pipeline-cdc",
        "pipeline-schema",
        "pipeline-sink",
        "pipeline-source",
      ]);
      expect(report.resources).toContainEqual(
        expect.objectContaining({
          name: "pipeline-source",
          kind: "changed outside Pulumi",
          fields: expect.arrayContaining([
            { path: "state", live: "paused", expected: "running", expectedFrom: "declared" },
          ]) as unknown,
        }),
      );
    });

    it("pulumi up --refresh repairs them all, and the check passes again", () => {
      repair();
      const clean = drift();
      expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    });
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

// The local stack through the real Pulumi CLI, exactly as a user runs it: the CLI starts the program
// and the dynamic providers in its own Node process.
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, query } from "../connectors";
import { harness, PROJECT_DIR } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
afterAll(() => backend.dispose());

interface Exported {
  deployment: { resources?: { type: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }[] };
}

const exported = (): Exported => JSON.parse(backend.ok("stack", "export", "--stack", "local")) as Exported;

describe("local stack with the real CLI", () => {
  it("npm run local deploys the stack and prints its outputs", () => {
    const run = backend.script("local.sh");
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/\+ 12 created/);
    expect(run.stdout).toMatch(/connectVersion\s+4\.3\.1/);
    expect(run.stdout).toMatch(/targetServerVersion\s+15\./);
  });

  it("moves a row inserted in the source to the target", async () => {
    const id = 100_000 + Math.floor(Math.random() * 100_000);
    await query("source", "INSERT INTO inventory.customers VALUES ($1, 'Grace', NULL)", [id]);
    const rows = () => query("target", "SELECT name FROM inventory.customers WHERE id = $1", [id]).catch(() => []);
    expect(await eventually(rows, (r) => r.length === 1)).toEqual([{ name: "Grace" }]);
    await query("source", "DELETE FROM inventory.customers WHERE id = $1", [id]);
    await eventually(rows, (r) => r.length === 0);
  });

  it("preview without changes, refresh and destroy; no plaintext secret anywhere", () => {
    backend.ok("stack", "select", "local", "--create");
    backend.ok("up", "--stack", "local", "--yes", "--skip-preview");
    const outputs = JSON.parse(backend.ok("stack", "output", "--stack", "local", "--json")) as Record<string, unknown>;
    expect(outputs.connectVersion).toBe("4.3.1");
    expect(outputs.connectPlugins).toContain("io.debezium.connector.sqlserver.SqlServerConnector@3.6.1.Final");

    expect(backend.pulumi("preview", "--stack", "local", "--expect-no-changes").status).toBe(0);

    // The passwords are in the state, encrypted: as inputs and outputs of every database resource, and as
    // the connectors' sensitive config.
    expect(backend.files()).not.toContain(harness.pgPassword);
    const resources = exported().deployment.resources ?? [];
    const databases = resources.filter((r) => /PostgresServer|PostgresCdc|PostgresSchema$/.test(r.type));
    expect(databases).toHaveLength(4);
    for (const r of databases) {
      expect(r.inputs.password).toHaveProperty("ciphertext");
      expect(r.outputs.password).toHaveProperty("ciphertext");
    }
    const connectors = resources.filter((r) => r.type.endsWith("KafkaConnector"));
    expect(connectors).toHaveLength(2);
    for (const r of connectors) expect(r.inputs.sensitiveConfig).toHaveProperty("ciphertext");

    expect(backend.ok("refresh", "--stack", "local", "--yes")).toMatch(/12 unchanged/);
    expect(backend.pulumi("preview", "--stack", "local", "--expect-no-changes").status).toBe(0);

    expect(backend.ok("destroy", "--stack", "local", "--yes")).toMatch(/12 deleted/);
    expect(exported().deployment.resources ?? []).toEqual([]);

    expect(backend.transcript.join("\n")).not.toContain(harness.pgPassword);
  });

  it("an invalid configuration fails before any resource is touched, naming the key and the fix", () => {
    backend.ok("stack", "select", "local", "--create");
    const configFile = path.join(backend.dir, "Pulumi.broken.yaml");
    const local = readFileSync(path.join(PROJECT_DIR, "Pulumi.local.yaml"), "utf8");
    writeFileSync(configFile, local.replace("port: 55433", 'port: "not-a-port"'));
    const result = backend.pulumi("up", "--stack", "local", "--yes", "--skip-preview", "--config-file", configFile);
    expect(result.status).not.toBe(0);
    const text = result.stdout + result.stderr;
    expect(text).toContain("cdc-pipeline:target.port");
    expect(text).toContain("pulumi config set --stack local --path 'target.port' <value>");
    // Only the stack itself is recorded: no resource of the program was declared.
    expect((exported().deployment.resources ?? []).map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });
});

// The local stack through the real Pulumi CLI, exactly as a user runs it: the CLI starts the program
// and the dynamic providers in its own Node process.
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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
    expect(run.stdout).toMatch(/\+ 5 created/);
    expect(run.stdout).toMatch(/connectVersion\s+4\.3\.1/);
    expect(run.stdout).toMatch(/targetServerVersion\s+15\./);
  });

  it("preview without changes, refresh and destroy; no plaintext secret anywhere", () => {
    backend.ok("stack", "select", "local", "--create");
    backend.ok("up", "--stack", "local", "--yes", "--skip-preview");
    const outputs = JSON.parse(backend.ok("stack", "output", "--stack", "local", "--json")) as Record<string, unknown>;
    expect(outputs.connectVersion).toBe("4.3.1");
    expect(outputs.connectPlugins).toContain("io.debezium.connector.sqlserver.SqlServerConnector@3.6.1.Final");

    expect(backend.pulumi("preview", "--stack", "local", "--expect-no-changes").status).toBe(0);

    // The passwords are in the state, encrypted: as inputs and as outputs of both servers.
    expect(backend.files()).not.toContain(harness.pgPassword);
    const servers = (exported().deployment.resources ?? []).filter((r) => r.type.endsWith("PostgresServer"));
    expect(servers).toHaveLength(2);
    for (const server of servers) {
      expect(server.inputs.password).toHaveProperty("ciphertext");
      expect(server.outputs.password).toHaveProperty("ciphertext");
    }

    expect(backend.ok("refresh", "--stack", "local", "--yes")).toMatch(/5 unchanged/);
    expect(backend.pulumi("preview", "--stack", "local", "--expect-no-changes").status).toBe(0);

    expect(backend.ok("destroy", "--stack", "local", "--yes")).toMatch(/5 deleted/);
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
    expect(text).toContain("pulumi config set --stack local --path target.port <value>");
    // Only the stack itself is recorded: no resource of the program was declared.
    expect((exported().deployment.resources ?? []).map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });
});

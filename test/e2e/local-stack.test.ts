// The local stack through the real Pulumi CLI, exactly as a user runs it: the CLI starts the program
// and the dynamic providers in its own Node process. A private file backend keeps the user's own local
// stack untouched.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { harness, PROJECT_DIR } from "../harness";

const backend = mkdtempSync(path.join(tmpdir(), "cdc-e2e-state-"));
const transcript: string[] = [];

function pulumi(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("bash", [path.join(PROJECT_DIR, "scripts/pulumi.sh"), ...args], {
    encoding: "utf8",
    env: { ...process.env, PULUMI_BACKEND_URL: `file://${backend}` },
    timeout: 300_000,
  });
  transcript.push(result.stdout, result.stderr);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(...args: string[]): string {
  const result = pulumi(...args);
  expect(result.status, `pulumi ${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** Every file of the backend (state, backups, history) as one text. */
function backendText(): string {
  const files = readdirSync(backend, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  return files.map((f) => readFileSync(path.join(f.parentPath, f.name), "utf8")).join("\n");
}

afterAll(() => {
  pulumi("destroy", "--stack", "local", "--yes");
  rmSync(backend, { recursive: true, force: true });
});

describe("local stack with the real CLI", () => {
  it("up, preview without changes, refresh and destroy; no plaintext secret anywhere", () => {
    ok("stack", "select", "local", "--create");
    const up = ok("up", "--stack", "local", "--yes", "--skip-preview");
    expect(up).toMatch(/\+ 5 created/);

    const outputs = JSON.parse(ok("stack", "output", "--stack", "local", "--json")) as Record<string, unknown>;
    expect(outputs.connectVersion).toBe("4.3.1");
    expect(outputs.targetServerVersion).toMatch(/^15\./);
    expect(outputs.connectPlugins).toContain("io.debezium.connector.sqlserver.SqlServerConnector@3.6.1.Final");

    expect(pulumi("preview", "--stack", "local", "--expect-no-changes").status).toBe(0);

    // The passwords are in the state, encrypted: as inputs and as outputs of both servers.
    const state = backendText();
    expect(state).not.toContain(harness.pgPassword);
    const exported = JSON.parse(ok("stack", "export", "--stack", "local")) as {
      deployment: { resources: { type: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }[] };
    };
    const servers = exported.deployment.resources.filter((r) => r.type.endsWith("PostgresServer"));
    expect(servers).toHaveLength(2);
    for (const server of servers) {
      expect(server.inputs.password).toHaveProperty("ciphertext");
      expect(server.outputs.password).toHaveProperty("ciphertext");
    }

    expect(ok("refresh", "--stack", "local", "--yes")).toMatch(/5 unchanged/);
    expect(pulumi("preview", "--stack", "local", "--expect-no-changes").status).toBe(0);

    expect(ok("destroy", "--stack", "local", "--yes")).toMatch(/5 deleted/);
    const after = JSON.parse(ok("stack", "export", "--stack", "local")) as { deployment: { resources?: unknown[] } };
    expect(after.deployment.resources ?? []).toEqual([]);

    expect(transcript.join("\n")).not.toContain(harness.pgPassword);
  });

  it("an invalid configuration fails before any resource is touched, naming the key and the fix", () => {
    ok("stack", "select", "local", "--create");
    const configFile = path.join(backend, "Pulumi.broken.yaml");
    const local = readFileSync(path.join(PROJECT_DIR, "Pulumi.local.yaml"), "utf8");
    writeFileSync(configFile, local.replace("port: 55433", 'port: "not-a-port"'));
    const result = pulumi("up", "--stack", "local", "--yes", "--skip-preview", "--config-file", configFile);
    expect(result.status).not.toBe(0);
    const text = result.stdout + result.stderr;
    expect(text).toContain("cdc-pipeline:target.port");
    expect(text).toContain("pulumi config set --stack local --path target.port <value>");
    // Only the stack itself is recorded: no resource of the program was declared.
    const exported = JSON.parse(ok("stack", "export", "--stack", "local")) as {
      deployment: { resources?: { type: string }[] };
    };
    expect((exported.deployment.resources ?? []).map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });
});

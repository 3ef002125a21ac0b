// The policy pack through the real Pulumi CLI: `pulumi preview --policy-pack policy` runs it (through the
// wrapper in front of the harness's Node.js language host, scripts/pulumi-nodejs-host) and fails on a
// violation. The connector rule is exercised with a small program, policy-stack/, that needs no service.
// The bucket rules cannot be: the stacks with buckets need the aws provider plugin, which the harness's
// CLI cannot download; they are unit-tested in test/unit/policy.test.ts.
import { rmSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const program = path.join(__dirname, "policy-stack");
const pack = path.join(PROJECT_DIR, "policy");

/** The CLI on the test program; its stack config, Pulumi.e2e.yaml beside it, is removed afterwards. */
const cli = (...args: string[]) => backend.pulumi("--cwd", program, ...args, "--stack", "e2e");
/** A preview of the test program with the policy pack: exit code and everything it printed. */
function preview(passwordIn: "config" | "sensitiveConfig"): { status: number | null; output: string } {
  expect(cli("config", "set", "passwordIn", passwordIn).status).toBe(0);
  const result = cli("preview", "--policy-pack", pack);
  return { status: result.status, output: result.stdout + result.stderr };
}

beforeAll(() => {
  expect(backend.pulumi("--cwd", program, "stack", "init", "e2e").status).toBe(0);
});

afterAll(() => {
  // Only previews ran: there is nothing to destroy.
  backend.dispose([]);
  rmSync(path.join(program, "Pulumi.e2e.yaml"), { force: true });
});

describe("policy pack with the real CLI", () => {
  it("fails the preview of a connector with a password in config, naming the rule and the key", () => {
    const { status, output } = preview("config");
    expect(status, output).not.toBe(0);
    expect(output).toContain("❌ cdc-pipeline@v0.1.0");
    expect(output).toMatch(
      /\[mandatory\]\s+connector-password-in-sensitive-config\s+\(pulumi-nodejs:dynamic\/cdc-pipeline:KafkaConnector: source\)/,
    );
    expect(output).toContain("config key 'database.password' holds a password: move it to sensitiveConfig");
  });

  it("passes the preview with the password in sensitiveConfig", () => {
    const { status, output } = preview("sensitiveConfig");
    expect(status, output).toBe(0);
    expect(output).toContain(`✅ cdc-pipeline@v0.1.0 (local: ${pack})`);
    expect(output).not.toContain("connector-password-in-sensitive-config");
  });

  it("passes the preview of the project's local stack", () => {
    backend.ok("stack", "select", "local", "--create");
    const output = backend.ok("preview", "--stack", "local", "--policy-pack", "policy");
    expect(output).toContain("✅ cdc-pipeline@v0.1.0 (local: policy)");
  });
});

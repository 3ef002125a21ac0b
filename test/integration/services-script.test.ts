// scripts/services.sh itself, on the S3 service with a private run directory and port, so that the
// shared harness the other tests use is left alone; and the passphrase scripts/harness-env.sh (and so
// scripts/pulumi.sh) gives the harness's stacks only.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../harness";

const runDir = mkdtempSync(path.join(tmpdir(), "cdc-services-test-"));

function listen(port = 0): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.destroy());
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function services(port: number, ...args: string[]): { status: number | null; out: string } {
  const result = spawnSync("bash", [path.join(PROJECT_DIR, "scripts/services.sh"), ...args], {
    encoding: "utf8",
    env: { ...process.env, CDC_RUN_DIR: runDir, CDC_S3_PORT: String(port) },
    timeout: 120_000,
  });
  return { status: result.status, out: result.stdout + result.stderr };
}

afterAll(() => rmSync(runDir, { recursive: true, force: true }));

describe("scripts/services.sh", () => {
  it("a failed start names the step, the command and the log; status stays truthful; down cleans up", async () => {
    // A port already taken by something that is not an S3 server.
    const squatter = await listen();
    const port = (squatter.address() as { port: number }).port;
    try {
      const up = services(port, "up", "s3");
      expect(up.status).not.toBe(0);
      expect(up.out).toContain("FAILED: step 'start s3'");
      expect(up.out).toContain("command: svc_start s3");
      expect(up.out).toMatch(/log: +\S+\/start-s3\.log/);
      expect(up.out).toContain("s3 exited during start-up");

      const status = services(port, "status", "s3");
      expect(status.status).not.toBe(0);
      expect(status.out).toMatch(/^s3 +stopped/m);
      expect(services(port, "down", "s3").status).toBe(0);
    } finally {
      squatter.close();
    }
  });

  it("up starts the service once, a second up starts nothing, down stops it", async () => {
    const probe = await listen();
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));

    const first = services(port, "up", "s3");
    expect(first.status, first.out).toBe(0);
    expect(first.out).toMatch(/^s3 +healthy +http:\/\/127\.0\.0\.1:\d+ \(moto\)/m);
    expect(first.out).toMatch(/started: s3 \(\d+ s\)/);

    const second = services(port, "up", "s3");
    expect(second.status).toBe(0);
    expect(second.out).toContain("s3 already running");
    expect(second.out).toContain("started: nothing");

    expect(services(port, "down", "s3").status).toBe(0);
    const status = services(port, "status", "s3");
    expect(status.status).not.toBe(0);
    expect(status.out).toMatch(/^s3 +stopped/m);
    // The port is free again: nothing was left running.
    const again = await listen(port);
    again.close();
  });

  it("refuses an unknown service name", () => {
    const result = services(1, "up", "zookeeper");
    expect(result.status).toBe(2);
    expect(result.out).toContain("unknown service 'zookeeper': expected one of pg-source pg-target kafka connect s3");
  });
});

describe("the harness's passphrase (scripts/lib/pulumi-env.sh)", () => {
  const HARNESS_PASSPHRASE = "local-harness-passphrase";
  /** This process's environment without any passphrase of the caller's, plus `extra`. */
  const callerEnv = (extra: Record<string, string> = {}) => {
    const env: Record<string, string | undefined> = { ...process.env, ...extra };
    for (const key of ["PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"]) {
      if (!(key in extra)) delete env[key];
    }
    return env;
  };
  /** The passphrase a command line gets from scripts/harness-env.sh: the command here prints it. */
  function passphraseFor(args: string[], extra: Record<string, string> = {}): string {
    const print = 'printf "%s" "${PULUMI_CONFIG_PASSPHRASE-<unset>}"';
    const result = spawnSync(
      "bash",
      [path.join(PROJECT_DIR, "scripts/harness-env.sh"), "bash", "-c", print, "pulumi", ...args],
      { encoding: "utf8", env: callerEnv(extra) },
    );
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  }

  it.each([
    [["up", "--stack", "local"], HARNESS_PASSPHRASE],
    [["preview", "-s", "local-dr"], HARNESS_PASSPHRASE],
    [["stack", "select", "local", "--create"], HARNESS_PASSPHRASE],
    [["--cwd", "test/e2e/policy-stack", "stack", "init", "e2e"], HARNESS_PASSPHRASE],
    [["preview", "--stack", "dev"], "<unset>"],
    [["up", "--stack=dr"], "<unset>"],
    [["up", "--stack", "local", "--stack", "dev"], "<unset>"],
  ])("pulumi %j gets %s", (args, expected) => {
    expect(passphraseFor(args)).toBe(expected);
  });

  it("is given to the ops commands on the harness's stacks only", () => {
    const npm = (...args: string[]) => {
      const print = 'printf "%s" "${PULUMI_CONFIG_PASSPHRASE-<unset>}"';
      // What `scripts/harness-env.sh npm run -s ops -- ARGS` decides, printed instead of run.
      const result = spawnSync(
        "bash",
        ["-c", `source scripts/lib/common.sh && source scripts/lib/pulumi-env.sh "$@" && ${print}`, "_", ...args],
        { cwd: PROJECT_DIR, encoding: "utf8", env: callerEnv() },
      );
      return result.stdout;
    };
    expect(npm("npm", "run", "-s", "drift", "--", "--stack", "local")).toBe(HARNESS_PASSPHRASE);
    expect(npm("npm", "run", "-s", "ops", "--", "drill", "--primary", "local", "--dr", "local-dr")).toBe(
      HARNESS_PASSPHRASE,
    );
    expect(npm("npm", "run", "-s", "ops", "--", "status", "--stack", "dev")).toBe("<unset>");
    expect(npm("npm", "run", "-s", "ops", "--", "drill", "--primary", "dev", "--dr", "dr")).toBe("<unset>");
  });

  it("leaves the caller's own passphrase, or passphrase file, alone", () => {
    expect(passphraseFor(["up", "--stack", "dev"], { PULUMI_CONFIG_PASSPHRASE: "mine" })).toBe("mine");
    expect(passphraseFor(["up", "--stack", "local"], { PULUMI_CONFIG_PASSPHRASE: "" })).toBe("");
    expect(passphraseFor(["up", "--stack", "local"], { PULUMI_CONFIG_PASSPHRASE_FILE: "/my/file" })).toBe("<unset>");
  });

  it("with the real CLI: a dev stack asks for PULUMI_CONFIG_PASSPHRASE, a local stack needs none", () => {
    const project = mkdtempSync(path.join(tmpdir(), "cdc-passphrase-project-"));
    const backend = mkdtempSync(path.join(tmpdir(), "cdc-passphrase-state-"));
    writeFileSync(path.join(project, "Pulumi.yaml"), "name: passphrase-check\nruntime: nodejs\n");
    const pulumi = (extra: Record<string, string>, ...args: string[]) => {
      const result = spawnSync("bash", [path.join(PROJECT_DIR, "scripts/pulumi.sh"), "--cwd", project, ...args], {
        encoding: "utf8",
        env: callerEnv({ PULUMI_BACKEND_URL: `file://${backend}`, ...extra }),
        timeout: 60_000,
      });
      return { status: result.status, out: result.stdout + result.stderr };
    };
    try {
      // A dev stack with a real passphrase of its own, as its owner created it.
      expect(pulumi({ PULUMI_CONFIG_PASSPHRASE: "real secret" }, "stack", "init", "dev").status).toBe(0);
      for (const args of [
        ["preview", "--stack", "dev"],
        ["config", "set", "--secret", "password", "hunter2", "--stack", "dev"],
      ]) {
        const run = pulumi({}, ...args);
        expect(run.status, run.out).not.toBe(0);
        expect(run.out).toContain("passphrase must be set with PULUMI_CONFIG_PASSPHRASE");
      }
      expect(pulumi({}, "stack", "init", "local").status).toBe(0);
      const local = pulumi({}, "config", "set", "--secret", "password", "throwaway", "--stack", "local");
      expect(local.status, local.out).toBe(0);
    } finally {
      rmSync(project, { recursive: true, force: true });
      rmSync(backend, { recursive: true, force: true });
    }
  });
});

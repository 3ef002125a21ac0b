// scripts/services.sh itself, on the S3 service with a private run directory and port, so that the
// shared harness the other tests use is left alone.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
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

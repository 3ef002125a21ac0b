// scripts/services.sh itself, on the S3 service with a private run directory and port, so that the
// shared harness the other tests use is left alone; the services the harness adds for backups (the
// Pushgateway, the backup buckets, the stand-in for S3 replication), on the shared harness, each test with
// keys and a job of its own; and the passphrase scripts/harness-env.sh (and so scripts/pulumi.sh) gives the
// harness's stacks only.
import {
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { harnessS3 } from "../fixtures/backup-bucket";
import { harness, PROJECT_DIR } from "../harness";

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

const BACKUP_BUCKETS = [
  "cdc-local-backups",
  "cdc-local-backups-replica",
  "cdc-local-dr-backups",
  "cdc-local-dr-backups-replica",
];

const versioning = async (client: S3Client, bucket: string) =>
  (await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status;

describe("scripts/services.sh", () => {
  it("a failed start names the step, the command, the log and the service's reason; status stays truthful; down cleans up", async () => {
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
      // Why, from the service's own log; and of this start only, not of an earlier one in the same step log.
      expect(up.out).toMatch(/s3\.log: .*in use/i);
      const again = services(port, "up", "s3");
      expect(again.out.split("s3 exited during start-up").length - 1).toBe(1);

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
    // Both ups prepared the backup buckets: the second found them there.
    expect(second.out).toContain("==> prepare s3 buckets");
    const client = harnessS3(`http://127.0.0.1:${port}`);
    for (const bucket of BACKUP_BUCKETS) expect(await versioning(client, bucket)).toBe("Enabled");

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
    expect(result.out).toContain(
      "unknown service 'zookeeper': expected one of pg-source pg-target kafka connect s3 s3-replication pushgateway",
    );
  });
});

describe("the harness's Pushgateway, backup buckets and stand-in for S3 replication", () => {
  const s3 = harnessS3();
  const interval = Number(harness.env.CDC_S3_REPLICATION_INTERVAL);
  // This run's keys, removed (every version, in both buckets) afterwards.
  const prefix = `services-script-test/${Date.now()}-${process.pid}/`;
  const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

  async function read(bucket: string, key: string): Promise<{ sha256: string; metadata?: Record<string, string> }> {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { sha256: sha256(await object.Body!.transformToByteArray()), metadata: object.Metadata };
  }

  /** Resolves once `key` is in cdc-local-backups-replica. */
  async function replicated(key: string): Promise<void> {
    const started = Date.now();
    // Asynchronous, up to one interval behind: a few intervals are plenty, the copy included.
    const deadline = started + (4 * interval + 5) * 1000;
    for (;;) {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: "cdc-local-backups-replica", Key: key }));
        return;
      } catch (error) {
        if ((error as Error).name !== "NotFound") throw error;
        if (Date.now() > deadline) {
          throw new Error(`${key}: not in cdc-local-backups-replica after ${Date.now() - started} ms`, {
            cause: error,
          });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  afterAll(async () => {
    for (const bucket of ["cdc-local-backups", "cdc-local-backups-replica"]) {
      const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
      const objects = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => ({
        Key: v.Key,
        VersionId: v.VersionId,
      }));
      if (objects.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
    }
  });

  it("the Pushgateway is ready and takes a push", async () => {
    const url = harness.env.CDC_PUSHGATEWAY_URL;
    expect((await fetch(`${url}/-/ready`)).status).toBe(200);
    const job = `services_script_test_${process.pid}`;
    const pushed = await fetch(`${url}/metrics/job/${job}`, {
      method: "PUT",
      body: "# TYPE services_script_test gauge\nservices_script_test 42\n",
    });
    expect(pushed.status).toBe(200);
    try {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^services_script_test\\{[^}]*job="${job}"[^}]*\\} 42$`, "m"));
    } finally {
      expect((await fetch(`${url}/metrics/job/${job}`, { method: "DELETE" })).status).toBe(202);
    }
    expect(await (await fetch(`${url}/metrics`)).text()).not.toContain(`job="${job}"`);
  });

  it("the backup buckets exist, versioned", async () => {
    for (const bucket of BACKUP_BUCKETS) expect(await versioning(s3, bucket), bucket).toBe("Enabled");
  });

  it("an object put into cdc-local-backups reaches cdc-local-backups-replica, the same bytes and metadata", async () => {
    const key = `${prefix}small.txt`;
    const body = randomBytes(1024);
    await s3.send(
      new PutObjectCommand({ Bucket: "cdc-local-backups", Key: key, Body: body, Metadata: { kind: "small" } }),
    );
    await replicated(key);
    expect(await read("cdc-local-backups-replica", key)).toEqual({ sha256: sha256(body), metadata: { kind: "small" } });
  });

  it("so does a multipart object", async () => {
    const key = `${prefix}multipart.bin`;
    const body = randomBytes(11 * 1024 * 1024);
    const upload = new Upload({
      client: s3,
      params: { Bucket: "cdc-local-backups", Key: key, Body: body, Metadata: { kind: "multipart" } },
      partSize: 5 * 1024 * 1024,
    });
    const { ETag } = await upload.done();
    // Three parts (5 + 5 + 1 MiB): the ETag names them.
    expect(ETag).toMatch(/-3"$/);
    await replicated(key);
    expect(await read("cdc-local-backups-replica", key)).toEqual({
      sha256: sha256(body),
      metadata: { kind: "multipart" },
    });
    // A multipart object in the store does not make the harness count its S3 server unhealthy (and restart it).
    const status = spawnSync("bash", [path.join(PROJECT_DIR, "scripts/services.sh"), "status", "s3"], {
      encoding: "utf8",
    });
    expect(status.status, status.stdout).toBe(0);
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

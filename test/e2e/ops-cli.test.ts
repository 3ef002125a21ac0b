// The operations CLI (`npm run ops --`, the package's `cdc-pipeline` bin) on the harness, with the real
// Pulumi CLI: reconcile of the deployed local stack in its three formats, its status, the RPO check of a
// bucket on the harness's S3 server, and the failover drill between the local and local-dr stacks with its
// RTO and no row lost.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectHttp } from "../../lib/connect-rest";
import { getStatus, requestState } from "../../lib/connector-api";
import type { RpoReport } from "../../ops/rpo";
import type { StatusReport } from "../../ops/status";
import { cluster, eventually, query } from "../connectors";
import { backupBucket, harnessS3, putBackup, templateKey } from "../fixtures/backup-bucket";
import { severityOf } from "../../lib/reconcile";
import { CLOSED_PORT, harness, PROJECT_DIR } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const s3 = harnessS3();
const ops = (...args: string[]) => backend.script("harness-env.sh", "npm", "run", "-s", "ops", "--", ...args);
/** Runs `work` with the harness's password as CDC_TARGET_PASSWORD (the commands inherit this environment). */
function withTargetPassword<T>(work: () => T): T {
  process.env.CDC_TARGET_PASSWORD = harness.pgPassword;
  try {
    return work();
  } finally {
    delete process.env.CDC_TARGET_PASSWORD;
  }
}

// The drill records its rebuild tokens in the stacks' config files: put them back afterwards.
const configFiles = ["Pulumi.local.yaml", "Pulumi.local-dr.yaml"].map((f) => path.join(PROJECT_DIR, f));
const saved = configFiles.map((f) => readFileSync(f, "utf8"));

const id = 500_000 + Math.floor(Math.random() * 100_000);
const arrived = () => query("target", "SELECT id FROM inventory.customers WHERE id = $1", [id]).catch(() => []);

beforeAll(async () => {
  // The commands open existing stacks only: the drill's DR site is created here, as a user creates it once.
  backend.ok("stack", "init", "local-dr");
  backend.ok("stack", "select", "local", "--create");
  backend.ok("up", "--stack", "local", "--yes", "--skip-preview");
  await query("source", "INSERT INTO inventory.customers VALUES ($1, 'Ops', 'o@x')", [id]);
  await eventually(arrived, (rows) => rows.length === 1);
  // Every row of the shared source has reached the target (earlier files wrote some): the reconcile tests
  // below count exactly the differences they make.
  const settled = ops("reconcile", "--stack", "local", "--settle", "120");
  expect(settled.status, settled.stdout + settled.stderr).toBe(0);
});
afterAll(() => {
  s3.destroy();
  backend.dispose(["local-dr", "local"]);
  configFiles.forEach((f, i) => writeFileSync(f, saved[i]));
});

describe("an unknown stack", () => {
  const stacks = () => (JSON.parse(backend.ok("stack", "ls", "--json")) as { name: string }[]).map((s) => s.name);
  /** Runs the command, which must be an error (exit 2), and checks that it created no stack and no file. */
  function refused(...args: string[]) {
    const before = stacks();
    expect(before.sort()).toEqual(["local", "local-dr"]);
    const run = ops(...args);
    expect(run.status, run.stdout + run.stderr).toBe(2);
    expect(existsSync(path.join(PROJECT_DIR, "Pulumi.lcoal.yaml"))).toBe(false);
    expect(stacks()).toEqual(before);
    return run;
  }

  it.each([
    ["status", "--stack", "lcoal"],
    ["rpo", "--stack", "lcoal", "--bucket", "b"],
    ["reconcile", "--stack", "lcoal"],
    // Not `--primary local --dr lcoal`: a command naming any other stack than the harness's gets no passphrase
    // (scripts/lib/pulumi-env.sh), so that one would fail reading local's secrets first.
    ["drill", "--primary", "lcoal", "--dr", "local-dr"],
    ["watch", "--stack", "lcoal"],
    ["dlq", "list", "--stack", "lcoal"],
  ])("%s is an error naming the stacks there are, and creates nothing", (...args) => {
    expect(refused(...args).stderr).toContain("cdc-pipeline: no stack 'lcoal' (stacks: local, local-dr)\n");
  });

  it("drift is an error, in its report, and creates nothing", () => {
    // The drift check runs the CLI's preview, which opens existing stacks only.
    expect(refused("drift", "--stack", "lcoal").stdout).toMatch(
      /could not run \(pulumi exited \d+\).*this is an error, not drift:\nerror: no stack named 'lcoal' found/s,
    );
  });
});

describe("cdc-pipeline reconcile", () => {
  it("finds the stack's source and target equal (exit 0), in a console table", () => {
    const run = ops("reconcile", "--stack", "local", "--settle", "30");
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/│ inventory\.customers\s+│ (\d+)\s+│ \1\s+│ 0\s+│ 0\s+│ 0\s+│ OK/);
    expect(run.stdout).toContain("Source and target match.");
  });

  it("names a row deleted from the target by hand (exit 1), as CSV and JSON", async () => {
    await query("target", "DELETE FROM inventory.customers WHERE id = $1", [id]);
    const csv = ops("reconcile", "--stack", "local", "--format", "csv", "--tables", "inventory.customers");
    expect(csv.status).toBe(1);
    const [header, ...rows] = csv.stdout.trim().split("\n");
    expect(header).toBe("table,kind,key,severity");
    // The severity grows with the share of the table that differs: one row of however many the source holds
    // (the files before this one may have left some).
    const [{ rows: sourceRows }] = await query<{ rows: number }>(
      "source",
      "SELECT count(*)::int AS rows FROM inventory.customers",
    );
    expect(rows).toEqual([`inventory.customers,missing,${id},${severityOf(sourceRows, 1, 0, 0)}`]);
    const json = ops("reconcile", "--stack", "local", "--format", "json");
    expect(json.status).toBe(1);
    const report = JSON.parse(json.stdout) as { status: string; tables: { table: string; missing: string[] }[] };
    expect(report.status).toBe("mismatch");
    expect(report.tables.find((t) => t.table === "inventory.customers")?.missing).toEqual([String(id)]);
    // Against a target named on the command line instead, the source database itself: it has the row. The
    // stack's target password is not sent to another server: the URL's comes from CDC_TARGET_PASSWORD.
    const { user, host, port, database } = harness.source;
    const sourceAsTarget = ["--target-url", `postgres://${user}@${host}:${port}/${database}?schema=inventory`];
    const withoutPassword = ops("reconcile", "--stack", "local", ...sourceAsTarget);
    expect(withoutPassword.status).toBe(2);
    expect(withoutPassword.stderr).toContain(
      "--target-url names another database than the stack's target: set CDC_TARGET_PASSWORD",
    );
    const self = withTargetPassword(() => ops("reconcile", "--stack", "local", ...sourceAsTarget));
    expect(self.status, self.stdout + self.stderr).toBe(0);
    // Put it back the way a user would: the source's row again, through the pipeline.
    await query("source", "UPDATE inventory.customers SET email = 'o2@x' WHERE id = $1", [id]);
    await eventually(arrived, (rows) => rows.length === 1);
  });

  it("refuses an unknown table and a bad option value as errors (exit 2)", () => {
    const unknown = ops("reconcile", "--stack", "local", "--tables", "inventory.nope");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(
      "--tables: inventory.nope not in the stack's tables (inventory.customers, inventory.orders)",
    );
    const down = withTargetPassword(() =>
      ops("reconcile", "--stack", "local", "--target-url", `postgres://etl@127.0.0.1:${CLOSED_PORT}/elsewhere`),
    );
    expect(down.status).toBe(2);
    expect(down.stderr).toContain(`PostgreSQL etl@127.0.0.1:${CLOSED_PORT}/elsewhere`);
    const secret = ops("reconcile", "--stack", "local", "--target-url", "postgres://etl:hunter2@127.0.0.1/elsewhere");
    expect(secret.status).toBe(2);
    expect(secret.stderr).toContain("--target-url: must not carry a password");
    expect(secret.stderr).not.toContain("hunter2");
    const bad = ops("reconcile", "--stack", "local", "--settle", "soon");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--settle takes a number of seconds >= 0");
  });
});

describe("cdc-pipeline status", () => {
  const sinkState = () => getStatus(connectHttp(cluster), "local-sink", []);

  it("shows the connectors running, CDC in place, the target's rows and the backups just taken (exit 0)", () => {
    // The stack's own bucket (backups.bucket, the harness's cdc-local-backups), backed up by the command.
    const backup = ops("backup", "--stack", "local");
    expect(backup.status, backup.stdout + backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^database: s3:\/\/cdc-local-backups\/database\/.*\nfiles: .*\nconfig: /m);
    const run = ops("status", "--stack", "local");
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout.split("\n")[0]).toBe("stack local: ok");
    for (const name of ["local-source", "local-sink"]) {
      expect(run.stdout).toMatch(new RegExp(`│ ${name}\\s+│ RUNNING\\s+│ 0 RUNNING\\s+│`));
    }
    expect(run.stdout).toContain("source CDC (postgres): ok");
    expect(run.stdout).toContain("slot local_slot: active");
    expect(run.stdout).toMatch(/^target rows: inventory\.customers \d+, inventory\.orders \d+$/m);
    expect(run.stdout).toMatch(/^backups s3:\/\/cdc-local-backups: database 0\.0 h \(RPO 24 h\), files 0\.0 h/m);
    expect(run.stdout).toMatch(/^dead letters: \d+ in local\.dead-letter/m);
  });

  it("is degraded while the sink is paused (exit 1), as JSON", async () => {
    await requestState(connectHttp(cluster), "local-sink", "paused", []);
    await eventually(sinkState, (s) => s?.state === "PAUSED");
    try {
      const run = ops("status", "--stack", "local", "--json");
      expect(run.status, run.stderr).toBe(1);
      const report = JSON.parse(run.stdout) as StatusReport;
      expect(report.status).toBe("degraded");
      expect(report.connectors.value?.map((c) => [c.name, c.status?.state])).toEqual([
        ["local-source", "RUNNING"],
        ["local-sink", "PAUSED"],
      ]);
    } finally {
      await requestState(connectHttp(cluster), "local-sink", "running", []);
      await eventually(sinkState, (s) => s?.state === "RUNNING");
    }
  });

  it("shows the backups of a bucket, and a bucket it cannot read as unreadable (exit 2) beside the rest", async () => {
    const bucket = await backupBucket(s3);
    for (const kind of ["database", "files", "config"] as const) await putBackup(s3, bucket, templateKey(kind));
    const endpoint = ["--s3-endpoint", harness.env.CDC_S3_ENDPOINT];
    const run = ops("status", "--stack", "local", "--bucket", bucket, ...endpoint);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^backups s3://${bucket}: database 0\\.0 h \\(RPO 24 h\\), files`, "m"));

    const unreadable = ops("status", "--stack", "local", "--bucket", "no-such-backups", ...endpoint);
    expect(unreadable.status).toBe(2);
    expect(unreadable.stdout.split("\n")[0]).toBe("stack local: unreadable");
    expect(unreadable.stdout).toMatch(/^backups cannot be read: .*bucket/im);
    expect(unreadable.stdout).toContain("source CDC (postgres): ok");
  });
});

describe("cdc-pipeline dlq", () => {
  it("lists the stack's dead-letter topic, and refuses a position past its end and a replay to a topic no connector reads (exit 2)", () => {
    const list = ops("dlq", "list", "--stack", "local");
    expect(list.status, list.stdout + list.stderr).toBe(0);
    const show = ops("dlq", "show", "0/999999999", "--stack", "local");
    expect(show.status).toBe(2);
    expect(show.stderr).toMatch(/^cdc-pipeline: no dead letter at 0\/999999999: local\.dead-letter holds /m);
    const replay = ops("dlq", "replay", "--stack", "local", "--to-topic", "local.inventory.nope");
    expect(replay.status).toBe(2);
    expect(replay.stderr).toContain(
      "cdc-pipeline: --to-topic: 'local.inventory.nope' is not read by any connector of the stack (local.inventory.customers, local.inventory.orders)",
    );
  });
});

describe("cdc-pipeline watch", () => {
  const poison = "watch-poison";
  const sinkConfig = () => connectHttp(cluster).get<Record<string, string>>("/connectors/local-sink/config");
  const [recoverId, failId] = [id + 1, id + 2];
  const inTarget = (rowId: number) =>
    query("target", "SELECT id FROM inventory.customers WHERE id = $1", [rowId]).catch(() => []);
  /** A row the target refuses (a CHECK constraint the source does not have): the sink's task fails on it. */
  const refuseRows = () =>
    query(
      "target",
      `ALTER TABLE inventory.customers ADD CONSTRAINT watch_poison CHECK (name <> '${poison}') NOT VALID`,
    );
  const acceptRows = () => query("target", "ALTER TABLE inventory.customers DROP CONSTRAINT IF EXISTS watch_poison");

  afterAll(async () => {
    await acceptRows();
    await connectHttp(cluster).post("/connectors/local-sink/restart?includeTasks=true&onlyFailed=true");
    await eventually(
      () => inTarget(failId),
      (rows) => rows.length === 1,
      120_000,
    );
    await query("source", "DELETE FROM inventory.customers WHERE id = ANY($1)", [[recoverId, failId]]);
    await eventually(
      () => inTarget(recoverId),
      (rows) => rows.length === 0,
      120_000,
    );
    await eventually(
      () => inTarget(failId),
      (rows) => rows.length === 0,
      120_000,
    );
  }, 400_000);

  it("refuses a stack none of whose connectors is on its worker (exit 2)", () => {
    // local-dr is initialized here but never deployed.
    const run = ops("watch", "--stack", "local-dr", "--metrics-port", "59999");
    expect(run.status, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(/^cdc-pipeline: none of the connectors \(local-dr-source, local-dr-sink\) is on http/m);
  });

  it("restarts a failed sink task that then recovers, gives up on one that fails for good, serves its metrics and stops on SIGTERM", async () => {
    const configBefore = (await sinkConfig()).data;
    const metricsPort = 59_000 + Math.floor(Math.random() * 900);
    const watch = backend.start(
      "harness-env.sh",
      ...["node", "ops/bin.cjs", "watch", "--stack", "local", "--interval", "1", "--unit", "1"],
      ...["--max-restarts", "3", "--healthy", "3", "--metrics-port", String(metricsPort)],
    );
    const logged = (text: string) =>
      eventually(
        async () => watch.output(),
        (out) => out.includes(text),
        120_000,
      );
    const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    try {
      await logged("watch    local-source, local-sink on ");
      // Fails, is restarted (and fails again while the cause stays), recovers once the cause is gone.
      await refuseRows();
      await query("source", "INSERT INTO inventory.customers VALUES ($1, $2, 'w@x')", [recoverId, poison]);
      await logged("watch    local-sink: restarted: restart 1 of 3: task 0:");
      await acceptRows();
      // Recovered: healthy for the healthy period (3 s), its count back to zero.
      await logged("watch    local-sink: recovered: RUNNING for 3 units after ");
      await eventually(
        () => inTarget(recoverId),
        (rows) => rows.length === 1,
      );
      expect(await metrics()).toContain('cdc_pipeline_task_state{connector="local-sink",task="0",state="RUNNING"} 1');

      // Then it fails for good, and is given up on after three restarts (counted from one again).
      await refuseRows();
      await query("source", "INSERT INTO inventory.customers VALUES ($1, $2, 'w@x')", [failId, poison]);
      await logged("watch    local-sink: gave up: still FAILED after 3 restarts");
      const given = await metrics();
      expect(given).toContain('cdc_pipeline_watch_given_up{connector="local-sink"} 1');
      expect(given).toContain('cdc_pipeline_watch_give_ups_total{connector="local-sink"} 1');
      expect(given).toContain('cdc_pipeline_task_state{connector="local-sink",task="0",state="FAILED"} 1');
      expect(given).toContain('cdc_pipeline_watch_given_up{connector="local-source"} 0');
      // The episode before the healthy period, then three: the count started again at 1.
      const restarts = Number(/cdc_pipeline_watch_restarts_total\{connector="local-sink"\} (\d+)/.exec(given)?.[1]);
      expect(restarts).toBeGreaterThanOrEqual(4);
      expect(watch.output()).toMatch(
        /restarted: restart 1 of 3[^]*recovered[^]*restarted: restart 1 of 3[^]*restart 3 of 3/,
      );
    } finally {
      watch.child.kill("SIGTERM");
    }
    const ended = await watch.done;
    expect(ended.status, ended.stderr).toBe(0);
    expect(ended.stderr.trimEnd().split("\n").pop()).toBe("watch    stopped");
    // It restarted; it never changed a configuration.
    expect((await sinkConfig()).data).toEqual(configBefore);
  }, 300_000);
});

describe("cdc-pipeline rpo", () => {
  it("checks a bucket against the stack's RPO targets: met (exit 0), a kind missing (exit 1)", async () => {
    const bucket = await backupBucket(s3);
    const keys = { database: templateKey("database"), files: templateKey("files"), config: templateKey("config") };
    for (const kind of ["database", "files"] as const) await putBackup(s3, bucket, keys[kind]);
    const rpo = (...args: string[]) =>
      ops("rpo", "--stack", "local", "--bucket", bucket, "--s3-endpoint", harness.env.CDC_S3_ENDPOINT, ...args);
    const missing = rpo();
    expect(missing.status, missing.stderr).toBe(1);
    expect(missing.stdout).toMatch(/│ config\s+│ -\s+│ -\s+│ 24\s+│ -\s+│ no config backup named like <kind>\/.*│/);
    expect(missing.stdout).toContain("RPO targets missed or not guaranteed.");

    await putBackup(s3, bucket, keys.config);
    const met = rpo("--json");
    expect(met.status, met.stderr).toBe(0);
    expect((JSON.parse(met.stdout) as RpoReport).backups.map((b) => [b.kind, b.newest?.key])).toEqual([
      ["database", keys.database],
      ["files", keys.files],
      ["config", keys.config],
    ]);
  });

  it("reads the stack's own bucket when none is named: the backups the backup command wrote (exit 0)", () => {
    const run = ops("rpo", "--stack", "local", "--json");
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as RpoReport;
    expect(report.bucket).toBe("cdc-local-backups");
    expect(report.backups.map((b) => b.newest?.key.split("/")[0])).toEqual(["database", "files", "config"]);
  });
});

describe("cdc-pipeline drill", () => {
  // The two-site drill itself runs in test/sites; here, what it refuses before changing anything.
  it("refuses a DR stack on the primary's hosts, naming each setting and address, and changes nothing (exit 2)", () => {
    const before = readFileSync(path.join(PROJECT_DIR, "Pulumi.local-dr.yaml"), "utf8");
    const run = ops("drill", "--primary", "local", "--dr", "local-dr");
    expect(run.status, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain("stack local-dr would reach the primary site, which a failover cannot count on:");
    expect(run.stderr).toContain(
      `source.host ${harness.source.host}:${harness.source.port} is on the primary site (local's source.host ${harness.source.host}:${harness.source.port})`,
    );
    expect(run.stderr).toMatch(/kafkaConnect\.url http:\/\/[\d.]+:\d+ is on the primary site/);
    expect(readFileSync(path.join(PROJECT_DIR, "Pulumi.local-dr.yaml"), "utf8")).toBe(before);
  });

  it("refuses --cut-primary without --heal-primary unless it stays on the DR site (exit 2)", () => {
    const run = ops("drill", "--primary", "local", "--dr", "local-dr", "--cut-primary", "true");
    expect(run.status, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain("--cut-primary needs --heal-primary to fail back (or pass --no-failback)");
  });

  it("never printed a password", () => {
    expect(backend.transcript.join("\n")).not.toContain(harness.pgPassword);
  });
});

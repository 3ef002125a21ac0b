// The dynamic providers run the installed code, through the real CLI (README, "Dynamic providers"):
// - a resource deployed from a copy of the project, whose provider code is then changed, runs the changed
//   `read` on `preview --refresh` without any change to its inputs;
// - a state written by the providers before the shim (test/fixtures/state-v1-local.json: `pulumi stack
//   export` of the local stack deployed from de520ab) is upgraded by the first `up` without a single write
//   to Kafka Connect or the databases, and destroys cleanly. What the program declares has grown since: the
//   fixture's recorded source config and CDC setup were given the keys added later (the heartbeat and its
//   table, topic.creation.*, the signalling table and notifications), so that only the state's format
//   differs from what is deployed.
import axios from "axios";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, query } from "../connectors";
import { harness, pulumiEnv, PROJECT_DIR } from "../harness";
import { PrivateBackend } from "./cli";

interface ExportedResource {
  type: string;
  urn: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}
const resourcesOf = (exported: string): ExportedResource[] =>
  (JSON.parse(exported) as { deployment: { resources?: ExportedResource[] } }).deployment.resources ?? [];
const dynamicResources = (exported: string) => resourcesOf(exported).filter((r) => r.type.startsWith("pulumi-nodejs"));
const shortName = (r: ExportedResource) => `${r.type.split(":").pop()} ${r.urn.split("::").pop()}`;
const providerBytes = (r: ExportedResource) =>
  typeof r.inputs?.__provider === "string" ? r.inputs.__provider.length : 0;

const FIXTURE = path.join(PROJECT_DIR, "test/fixtures/state-v1-local.json");
/** The Kafka cluster id of the harness the fixture was recorded on; ConnectCluster's id and state hold it. */
const FIXTURE_KAFKA_CLUSTER_ID = "0n6RSEnWR1S-hI5ubyOidw";

describe("a changed provider implementation runs without touching the resource", () => {
  // A copy of the project (its own lib/ and providers/, the same node_modules) with the test program.
  const copy = mkdtempSync(path.join(tmpdir(), "cdc-installed-provider-"));
  const program = path.join(copy, "test/e2e/provider-stack");
  const marker = path.join(copy, "read-ran");
  const backend = `file://${path.join(copy, ".state")}`;
  for (const entry of ["lib", "providers", "test/e2e/provider-stack", "package.json", "tsconfig.json"]) {
    cpSync(path.join(PROJECT_DIR, entry), path.join(copy, entry), { recursive: true });
  }
  symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(copy, "node_modules"));
  const env = {
    ...pulumiEnv(backend),
    PULUMI_CONFIG_PASSPHRASE: "provider-e2e",
    CDC_TEST_READ_MARKER: marker,
  };
  const cli = (...args: string[]) => {
    const result = spawnSync("pulumi", [...args, "--stack", "e2e", "--non-interactive"], {
      cwd: program,
      env,
      encoding: "utf8",
      timeout: 300_000,
    });
    expect(result.status, `pulumi ${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };
  afterAll(() => {
    spawnSync("pulumi", ["destroy", "--yes", "--stack", "e2e", "--non-interactive"], { cwd: program, env });
    rmSync(copy, { recursive: true, force: true });
  });

  it("deploys, then runs the installed read on preview --refresh", () => {
    spawnSync("pulumi", ["login", backend], { cwd: program, env });
    cli("stack", "init");
    cli("config", "set", "port", String(harness.source.port));
    cli("config", "set", "--secret", "password", harness.pgPassword);
    cli("up", "--yes", "--skip-preview");

    // The control: the code as deployed has no marker.
    cli("preview", "--refresh", "--expect-no-changes");
    expect(existsSync(marker)).toBe(false);

    // A test build of the installed provider: its read leaves a marker and records an extra output.
    writeFileSync(
      path.join(copy, "providers/postgres-server.ts"),
      `${readFileSync(path.join(copy, "providers/postgres-server.ts"), "utf8")}
// Test build (test/e2e/installed-provider.test.ts): read leaves a marker.
const installedRead = postgresServerProvider.read;
postgresServerProvider.read = async (id, props) => {
  require("node:fs").writeFileSync(process.env.CDC_TEST_READ_MARKER ?? "", "read ran");
  const result = await installedRead(id, props);
  const marked: PostgresServerState = Object.assign({}, result.props, { installedMarker: "test build" });
  return { ...result, props: marked };
};
`,
    );
    cli("preview", "--refresh");
    expect(readFileSync(marker, "utf8")).toBe("read ran");

    cli("refresh", "--yes");
    const [server] = dynamicResources(cli("stack", "export"));
    expect(server.outputs?.installedMarker).toBe("test build");
    expect(providerBytes(server)).toBeLessThan(2000);
  });
});

describe("a state written before the shim", () => {
  const backend = new PrivateBackend();
  afterAll(() => backend.dispose());
  const local = (...args: string[]) => backend.ok(...args, "--stack", "local");
  const connectLog = path.join(harness.env.CDC_RUN_DIR ?? "/tmp/cdc-pipeline-harness", "connect/connect.log");
  const pgLogs = ["pg-source", "pg-target"].map((site) =>
    path.join(harness.env.CDC_RUN_DIR ?? "/tmp/cdc-pipeline-harness", site, "postgres.log"),
  );
  /** Imports the fixture, recorded on another harness: with this harness's Kafka cluster id in its place. */
  const importFixture = async () => {
    const { data } = await axios.get<{ kafka_cluster_id: string }>(harness.connectUrl);
    const file = path.join(backend.dir, "fixture.json");
    writeFileSync(file, readFileSync(FIXTURE, "utf8").split(FIXTURE_KAFKA_CLUSTER_ID).join(data.kafka_cluster_id));
    local("stack", "import", "--file", file);
  };
  /** Turns the servers' connection log on or off, and waits until new sessions see it. */
  const logConnections = async (value: "on" | "off") => {
    for (const site of ["source", "target"] as const) {
      await query(
        site,
        value === "on" ? "ALTER SYSTEM SET log_connections = on" : "ALTER SYSTEM RESET log_connections",
      );
      await query(site, "SELECT pg_reload_conf()");
      await eventually(
        () => query<{ log_connections: string }>(site, "SHOW log_connections"),
        (rows) => rows[0].log_connections === value,
      );
    }
  };
  /** What a log gained since `from` bytes. */
  const since = (file: string, from: number) => readFileSync(file).subarray(from).toString("utf8");

  it("is upgraded by the first up without a write, then reads as deployed", async () => {
    // The objects the fixture describes, live on the harness (the local stack's names and config).
    backend.ok("stack", "select", "local", "--create");
    local("up", "--yes", "--skip-preview");
    const before = dynamicResources(readFileSync(FIXTURE, "utf8"));
    expect(before).toHaveLength(7);
    await importFixture();

    // Every connection the providers open is logged (as application cdc-pipeline) while the upgrade runs.
    await logConnections("on");
    try {
      const offsets = [connectLog, ...pgLogs].map((file) => statSync(file).size);
      const up = local("up", "--yes", "--skip-preview");
      expect(up).toMatch(/7 updated/);
      const requests = since(connectLog, offsets[0]).match(/"[A-Z]+ \/[^"]*"/g) ?? [];
      // KafkaConnector's check validates the config with the plugin: a PUT that changes nothing.
      const writes = requests.filter((line) => !line.startsWith('"GET ') && !/\/config\/validate /.test(line));
      expect(writes).toEqual([]);
      expect(requests.length).toBeGreaterThan(0);
      const providerSessions = /connection authorized: .*application_name=cdc-pipeline/;
      for (const [i, file] of pgLogs.entries()) expect(since(file, offsets[i + 1])).not.toMatch(providerSessions);

      // The rewritten state reads back as what is deployed: no drift. And this reading is seen in the
      // logs, so the check above could have seen one.
      expect(backend.pulumi("preview", "--refresh", "--stack", "local", "--expect-no-changes").status).toBe(0);
      for (const [i, file] of pgLogs.entries()) expect(since(file, offsets[i + 1])).toMatch(providerSessions);
    } finally {
      await logConnections("off");
    }

    const after = dynamicResources(local("stack", "export"));
    const sizes = before.map((r) => {
      const now = after.find((a) => a.urn === r.urn);
      return `${shortName(r)}: ${providerBytes(r)} -> ${now ? providerBytes(now) : "gone"} bytes`;
    });
    console.log(`serialized provider code per resource (state of de520ab -> now):\n  ${sizes.join("\n  ")}`);
    for (const r of after) {
      expect(providerBytes(r), shortName(r)).toBeLessThan(2000);
      expect(r.outputs?.providerVersion, shortName(r)).toEqual(expect.any(Number));
    }
    local("destroy", "--yes");
  });

  it("destroys with the stored pre-shim code", async () => {
    local("up", "--yes", "--skip-preview");
    await importFixture();
    local("destroy", "--yes");
    const connectors = await axios.get<string[]>(`${harness.connectUrl}/connectors`);
    expect(connectors.data.filter((name) => name.startsWith("local-"))).toEqual([]);
    const slots = await query("source", "SELECT slot_name FROM pg_replication_slots WHERE slot_name = 'local_slot'");
    expect(slots).toEqual([]);
  });
});

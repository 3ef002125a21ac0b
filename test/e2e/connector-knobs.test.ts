// The connectors' knobs in stack config (cdc-pipeline:connectors, and the change topics' pipeline.topic*), with
// the real CLI on the local stack: set with `pulumi config set --path` in Pulumi.local.yaml as an operator
// would, seen on the worker and the broker after `pulumi up`; a declared pause is no drift and survives another
// `up`, a pause by hand still is drift; an extra setting the plugin rejects fails the preview, naming the key.
// A topic prefix of its own, so that the change topics are new (an existing topic keeps its settings). The
// committed stack file is put back at the end.
import axios from "axios";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, query } from "../connectors";
import { harness, PROJECT_DIR } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const rest = axios.create({ baseURL: harness.connectUrl, headers: { "Content-Type": "application/json" } });
const stackFile = path.join(PROJECT_DIR, "Pulumi.local.yaml");
const committed = readFileSync(stackFile, "utf8");

const status = async (name: string) =>
  (await rest.get<{ connector: { state: string }; tasks: { state: string }[] }>(`/connectors/${name}/status`)).data;
const config = async (name: string) => (await rest.get<Record<string, string>>(`/connectors/${name}/config`)).data;

const PREFIX = `knobs${Date.now() % 100000}`;
/** The one source row this file writes (the source is shared with the other files). */
const KNOBS_ID = 950_000 + (process.pid % 10_000);

/** A topic's partition count and retention.ms, as Kafka's own TopicCommand describes them; none while it is missing. */
function describeTopic(topic: string): { partitions: number; retentionMs: string | undefined } | undefined {
  const run = spawnSync(
    "java",
    [
      ...["-cp", path.join(harness.env.CDC_KAFKA_LIBS, "*"), "org.apache.kafka.tools.TopicCommand"],
      ...["--bootstrap-server", harness.env.CDC_KAFKA_BOOTSTRAP, "--describe", "--topic", topic],
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  if (run.status !== 0) return undefined;
  return {
    partitions: Number(/PartitionCount: (\d+)/.exec(run.stdout)?.[1]),
    retentionMs: /retention\.ms=(\d+)/.exec(run.stdout)?.[1],
  };
}

beforeAll(() => {
  backend.ok("stack", "select", "local", "--create");
  backend.setLocal("pipeline.topicPrefix", PREFIX);
  backend.setLocal("pipeline.topicPartitions", "2");
  backend.setLocal("pipeline.topicRetentionMs", "86400000");
  backend.setLocal("connectors.sink.state", "paused");
  backend.setLocal("connectors.sink.tasksMax", "2");
  backend.setLocal('connectors.sink.settings["batch.size"]', "500");
  backend.setLocal('connectors.source.settings["heartbeat.interval.ms"]', "3000");
  backend.setLocal("connectors.source.ignoreKeys[0]", "poll.interval.ms");
  const first = backend.upLocal();
  expect(first.status, first.stdout + first.stderr).toBe(0);
});

afterAll(async () => {
  writeFileSync(stackFile, committed);
  backend.dispose();
  await query("source", "DELETE FROM inventory.customers WHERE id = $1", [KNOBS_ID]);
});

describe("connector knobs from the local stack's file", () => {
  it("reach the worker: the sink paused with two tasks and its batch size, the source's heartbeat", async () => {
    expect(readFileSync(stackFile, "utf8")).toContain("batch.size");
    const sink = await config(`${PREFIX}-sink`);
    expect(sink).toMatchObject({ "tasks.max": "2", "batch.size": "500", "insert.mode": "upsert" });
    expect((await status(`${PREFIX}-sink`)).connector.state).toBe("PAUSED");
    expect((await config(`${PREFIX}-source`))["heartbeat.interval.ms"]).toBe("3000");
    expect((await status(`${PREFIX}-source`)).connector.state).toBe("RUNNING");
  });

  it("create the change topics with the declared partitions and retention", async () => {
    // Connect creates a topic with its first record: one row of this file's own, whatever the table held.
    await query("source", "INSERT INTO inventory.customers VALUES ($1, 'knobs', NULL)", [KNOBS_ID]);
    const topic = `${PREFIX}.inventory.customers`;
    const described = await eventually(
      async () => describeTopic(topic),
      (d) => d !== undefined,
      60_000,
    );
    expect(described).toEqual({ partitions: 2, retentionMs: "86400000" });
  });

  it("keep the source's slot confirming WAL while the captured tables are idle: each heartbeat writes its table", async () => {
    await query("source", "CREATE TABLE IF NOT EXISTS public.knobs_uncaptured (id serial PRIMARY KEY, v text)");
    // Only a table the pipeline does not capture changes: pgoutput sends the connector nothing of it.
    await query("source", "INSERT INTO public.knobs_uncaptured (v) SELECT 'x' FROM generate_series(1, 1000)");
    const [{ written }] = await query<{ written: string }>("source", "SELECT pg_current_wal_lsn()::text AS written");
    const confirmed = async () =>
      (
        await query<{ passed: boolean }>(
          "source",
          "SELECT confirmed_flush_lsn >= $1::pg_lsn AS passed FROM pg_replication_slots WHERE slot_name = $2",
          [written, `${PREFIX}_slot`],
        )
      )[0]?.passed;
    // The source's heartbeat is every 3 s here (set above); offsets are flushed every second.
    expect(await eventually(confirmed, (passed) => passed === true, 30_000)).toBe(true);
    await query("source", "DROP TABLE public.knobs_uncaptured");
  });

  it("hold a declared pause through another `up` and the drift check; a key declared ignored is no drift", async () => {
    const live = await config(`${PREFIX}-source`);
    await rest.put(`/connectors/${PREFIX}-source/config`, { ...live, "poll.interval.ms": "700" });
    const again = backend.upLocal();
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect((await status(`${PREFIX}-sink`)).connector.state).toBe("PAUSED");
    const clean = backend.driftLocal();
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    expect((await config(`${PREFIX}-source`))["poll.interval.ms"]).toBe("700");
  });

  it("still report a pause by hand as drift", async () => {
    await rest.put(`/connectors/${PREFIX}-source/pause`);
    const found = backend.driftLocal();
    expect(found.status, found.stdout + found.stderr).toBe(1);
    expect(found.stdout).toMatch(/state: live "paused", declared "running"/);
    await rest.put(`/connectors/${PREFIX}-source/resume`);
  });

  it("fail the preview on a setting the plugin rejects, naming the key, and change nothing", async () => {
    backend.setLocal('connectors.sink.settings["batch.size"]', "lots");
    const preview = backend.pulumi("preview", "--stack", "local");
    expect(preview.status).not.toBe(0);
    expect(preview.stdout + preview.stderr).toMatch(/batch\.size/);
    expect((await config(`${PREFIX}-sink`))["batch.size"]).toBe("500");
  });

  it("fail the preview on a replication factor above the brokers, naming the key and what is allowed", () => {
    backend.setLocal('connectors.sink.settings["batch.size"]', "500");
    backend.setLocal("pipeline.replicationFactor", "3");
    const preview = backend.pulumi("preview", "--stack", "local");
    expect(preview.status).not.toBe(0);
    expect(preview.stdout + preview.stderr).toMatch(
      /pipeline\.replicationFactor 3 needs as many brokers, and the Kafka cluster at \S+ has 1: set it to at most 1/,
    );
  });
});

// The KafkaConnector provider's methods against the harness's real Kafka Connect 4.3.1 worker with the
// Debezium plugins, moving rows between the two real PostgreSQL clusters.
import axios from "axios";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectHttp } from "../../lib/connect-rest";
import { getOffsets, postConnector } from "../../lib/connector-api";
import { hashSecrets } from "../../lib/connector-config";
import { ADOPTION_KEYS } from "../../lib/debezium-configs";
import {
  kafkaConnectorProvider as provider,
  type KafkaConnectorInputs,
  type KafkaConnectorState,
} from "../../providers/kafka-connector";
import { cluster, dropReplicationSlots, eventually, query, TestPipeline } from "../connectors";
import { harness } from "../harness";

// A plain client for changes "by hand"; Connect wants a JSON content type even on body-less PUTs.
const rest = axios.create({
  baseURL: harness.connectUrl,
  validateStatus: () => true,
  headers: { "Content-Type": "application/json" },
});
const pipelines: TestPipeline[] = [];
const run = Date.now().toString(36);
const messages: string[] = [];

function pipeline(label: string): TestPipeline {
  const p = new TestPipeline(`${label}_${run}`);
  pipelines.push(p);
  return p;
}

/** check, as the engine calls it first, then the method; failures make the test fail with their reasons. */
async function checked(inputs: KafkaConnectorInputs, olds: Partial<KafkaConnectorInputs> = {}) {
  const result = await provider.check(olds as KafkaConnectorInputs, inputs);
  expect(result.failures ?? []).toEqual([]);
  return result.inputs as KafkaConnectorInputs;
}

async function create(inputs: KafkaConnectorInputs): Promise<KafkaConnectorState> {
  const { outs } = await provider.create(await checked(inputs));
  return outs!;
}

async function errorOf(promise: Promise<unknown>): Promise<string> {
  const message = await promise.then(
    () => "no error",
    (err: Error) => err.message,
  );
  messages.push(message);
  return message;
}

/** A connector's committed offsets, those with a position. */
const committed = async (name: string) =>
  (await getOffsets(connectHttp(cluster), name, [])).offsets.filter((o) => o.offset);

const liveStatus = async (name: string) =>
  (await rest.get<{ connector: { state: string } }>(`/connectors/${name}/status`)).data;

beforeAll(async () => {
  // Slots left by an interrupted earlier run.
  await dropReplicationSlots("it_");
});

afterAll(async () => {
  const names = (await rest.get<string[]>("/connectors")).data.filter((n) => n.includes(run));
  await Promise.all(names.map((n) => rest.delete(`/connectors/${n}`)));
  for (const p of pipelines) await p.dropAll();
});

describe("KafkaConnector provider", () => {
  it("a Debezium source and a JDBC sink move an insert, an update and a delete to the target", async () => {
    const p = pipeline("flow");
    await p.createSourceTable();
    await query("source", `INSERT INTO ${p.table} VALUES (1, 'Ada')`);
    const source = await create(p.source());
    const sink = await create(p.sink());
    expect(source.state).toBe("running");
    expect(source.tasks).toEqual([expect.objectContaining({ id: 0, state: "RUNNING" })]);
    expect(source.workerVersion).toBe("4.3.1");
    expect(source.workerId).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(sink.sensitiveKeys).toEqual(["connection.password"]);
    expect(JSON.stringify(sink)).not.toContain(harness.pgPassword);

    const rows = () => query<{ id: number; name: string }>("target", `SELECT id, name FROM ${p.table} ORDER BY id`);
    const tableExists = async () =>
      (await query("target", "SELECT 1 FROM pg_tables WHERE tablename = $1", [p.table])).length > 0;
    await eventually(tableExists, Boolean);
    expect(await eventually(rows, (r) => r.length === 1)).toEqual([{ id: 1, name: "Ada" }]);
    await query("source", `INSERT INTO ${p.table} VALUES (2, 'Grace')`);
    await query("source", `UPDATE ${p.table} SET name = 'Ada L.' WHERE id = 1`);
    await eventually(rows, (r) => r.length === 2 && r[0].name === "Ada L.");
    await query("source", `DELETE FROM ${p.table} WHERE id = 2`);
    expect(await eventually(rows, (r) => r.length === 1)).toEqual([{ id: 1, name: "Ada L." }]);

    const read = await provider.read(source.name, source);
    expect(read.props?.topics).toContain(p.topic);
  });

  it("updates config in place and moves through running, paused, stopped and running", async () => {
    const p = pipeline("states");
    const inputs = await checked(p.sink());
    const { outs } = await provider.create(inputs);
    let state = outs!;
    const changed = await checked({ ...inputs, config: { ...inputs.config, "batch.size": "100" } }, inputs);
    expect((await provider.diff(inputs.name, state, changed)).changes).toBe(true);
    state = (await provider.update(inputs.name, state, changed)).outs!;
    expect((await rest.get<Record<string, string>>(`/connectors/${inputs.name}/config`)).data["batch.size"]).toBe(
      "100",
    );
    expect(state.config["batch.size"]).toBe("100");

    for (const desired of ["paused", "stopped", "running"] as const) {
      const next = await checked({ ...changed, state: desired }, changed);
      expect((await provider.diff(inputs.name, state, next)).changes).toBe(true);
      state = (await provider.update(inputs.name, state, next)).outs!;
      expect(state.state).toBe(desired);
      expect((await liveStatus(inputs.name)).connector.state).toBe(desired.toUpperCase());
      expect((await provider.diff(inputs.name, state, next)).changes).toBe(false);
    }
  });

  it("an ignored key set by hand is no drift, and keeps its live value through an update of other keys", async () => {
    const p = pipeline("ignored");
    const inputs = await checked(p.sink({ ignoreKeys: ["batch.size"] }));
    let state = (await provider.create(inputs)).outs!;
    const name = inputs.name;
    const live = (await rest.get<Record<string, string>>(`/connectors/${name}/config`)).data;
    await rest.put(`/connectors/${name}/config`, { ...live, "batch.size": "77" });
    // The worker restarts the task for the edit: read once it runs again, or the restart reads as drift.
    await eventually(
      async () =>
        (await rest.get<{ connector: { state: string }; tasks: { state: string }[] }>(`/connectors/${name}/status`))
          .data,
      (s) => s.connector.state === "RUNNING" && s.tasks.length === 1 && s.tasks[0].state === "RUNNING",
    );
    state = (await provider.read(name, state)).props!;
    expect((await provider.diff(name, state, inputs)).changes).toBe(false);
    const changed = await checked({ ...inputs, config: { ...inputs.config, "flush.max.retries": "3" } }, inputs);
    state = (await provider.update(name, state, changed)).outs!;
    expect((await rest.get<Record<string, string>>(`/connectors/${name}/config`)).data).toMatchObject({
      "batch.size": "77",
      "flush.max.retries": "3",
    });
    expect((await provider.diff(name, (await provider.read(name, state)).props!, changed)).changes).toBe(false);
  });

  it("drift: a config edited over REST, a pause by hand and a delete by hand are read, then repaired", async () => {
    const p = pipeline("drift");
    const inputs = await checked(p.sink());
    let state = (await provider.create(inputs)).outs!;
    const name = inputs.name;

    const live = (await rest.get<Record<string, string>>(`/connectors/${name}/config`)).data;
    await rest.put(`/connectors/${name}/config`, { ...live, "batch.size": "7" });
    state = (await provider.read(name, state)).props!;
    expect(state.config["batch.size"]).toBe("7");
    expect((await provider.diff(name, state, inputs)).changes).toBe(true);
    state = (await provider.update(name, state, inputs)).outs!;
    expect((await rest.get<Record<string, string>>(`/connectors/${name}/config`)).data["batch.size"]).toBeUndefined();

    await rest.put(`/connectors/${name}/pause`);
    await eventually(
      () => liveStatus(name),
      (s) => s.connector.state === "PAUSED",
    );
    state = (await provider.read(name, state)).props!;
    expect(state.state).toBe("paused");
    expect((await provider.diff(name, state, inputs)).changes).toBe(true);
    state = (await provider.update(name, state, inputs)).outs!;
    expect((await liveStatus(name)).connector.state).toBe("RUNNING");

    // A password changed over REST is drift too, seen through the hash without storing either password.
    const withPassword = (await rest.get<Record<string, string>>(`/connectors/${name}/config`)).data;
    await rest.put(`/connectors/${name}/config`, { ...withPassword, "connection.password": "changed-by-hand" });
    state = (await provider.read(name, state)).props!;
    expect(JSON.stringify(state)).not.toContain("changed-by-hand");
    expect((await provider.diff(name, state, inputs)).changes).toBe(true);
    state = (await provider.update(name, state, inputs)).outs!;
    expect((await provider.diff(name, state, inputs)).changes).toBe(false);

    await rest.delete(`/connectors/${name}`);
    expect(await provider.read(name, state)).toEqual({});
  });

  // A task restarted for a new config goes on reporting the old task's RUNNING (or FAILED) until the new one
  // reports: update must not take the old task's status for the new one's.
  it("update right after a password changed by hand, before the worker applied it, records no phantom drift", async () => {
    const p = pipeline("racing");
    const inputs = await checked(p.sink());
    let state = (await provider.create(inputs)).outs!;
    const name = inputs.name;
    for (let round = 0; round < 3; round++) {
      const live = (await rest.get<Record<string, string>>(`/connectors/${name}/config`)).data;
      await rest.put(`/connectors/${name}/config`, { ...live, "connection.password": "changed-by-hand" });
      // The worker is still restarting the task with the password changed by hand. The state as the refresh
      // of `up --refresh` records it then: the changed password's hash, the task not yet restarted.
      const refreshed = {
        ...state,
        sensitiveHash: hashSecrets({ "connection.password": "changed-by-hand" }, state.salt),
      };
      state = (await provider.update(name, refreshed, inputs)).outs!;
      expect(state).toMatchObject({ state: "running", tasks: [expect.objectContaining({ state: "RUNNING" })] });
      expect((await provider.diff(name, state, inputs)).changes).toBe(false);
      const read = (await provider.read(name, state)).props!;
      expect(read.tasks).toEqual([expect.objectContaining({ state: "RUNNING" })]);
      expect((await provider.diff(name, read, inputs)).changes).toBe(false);
    }
  });

  it("update to a password the database refuses fails with the new task's trace, then an update repairs it", async () => {
    const p = pipeline("badupdate");
    const inputs = await checked(p.sink());
    const state = (await provider.create(inputs)).outs!;
    const wrong = "wrong-password-never-printed";
    const broken = await checked(p.sink({ sensitiveConfig: { "connection.password": wrong } }), inputs);
    const message = await errorOf(provider.update(inputs.name, state, broken));
    expect(message).toMatch(/^Connector 'it_badupdate_\w+-sink': task 0 FAILED on 127\.0\.0\.1:\d+\ntask 0: /);
    expect(message).not.toContain(wrong);
    const read = (await provider.read(inputs.name, state)).props!;
    expect((await provider.diff(inputs.name, read, inputs)).changes).toBe(true);
    const repaired = (await provider.update(inputs.name, read, inputs)).outs!;
    expect(repaired.tasks).toEqual([expect.objectContaining({ state: "RUNNING" })]);
    expect((await provider.diff(inputs.name, repaired, inputs)).changes).toBe(false);
  });

  it("a task that fails makes create fail with its trace and without the password, leaving nothing behind", async () => {
    const p = pipeline("fail");
    const wrong = "wrong-password-never-printed";
    // The sink's plugin does not try the password at validation: its task fails when it connects.
    const inputs = await checked(p.sink({ sensitiveConfig: { "connection.password": wrong } }));
    const message = await errorOf(provider.create(inputs));
    expect(message).toMatch(/^Connector 'it_fail_\w+-sink': task 0 FAILED on 127\.0\.0\.1:\d+\ntask 0: /);
    // The trace as the worker reports it, reduced to its exception chain (Hibernate hides the refused login).
    expect(message).toContain("Caused by: org.hibernate.HibernateException: Unable to determine Dialect");
    expect(message).not.toMatch(/^\s+at /m);
    expect(message).not.toContain(wrong);
    expect((await rest.get(`/connectors/${inputs.name}`)).status).toBe(404);
  });

  it("a source whose database refuses the password is refused by the worker at create, password not shown", async () => {
    const p = pipeline("refused");
    await p.createSourceTable();
    const wrong = "wrong-password-never-printed";
    const inputs = await checked(p.source({ sensitiveConfig: { "database.password": wrong }, validate: false }));
    const message = await errorOf(provider.create(inputs));
    expect(message).toMatch(/^POST \/connectors: HTTP (400|500)/);
    expect(message).not.toContain(wrong);
    expect((await rest.get(`/connectors/${inputs.name}`)).status).toBe(404);
  });

  it("an existing connector is adopted when its config matches, refused when it differs; never created twice", async () => {
    const p = pipeline("adopt");
    const inputs = await checked(p.sink());
    // As if an earlier attempt had timed out after the worker created the connector:
    const merged = { ...inputs.config, ...inputs.sensitiveConfig };
    expect(await postConnector(connectHttp(cluster), inputs.name, merged, undefined, [])).toBe("created");
    expect(await postConnector(connectHttp(cluster), inputs.name, merged, undefined, [])).toBe("exists");
    const adopted = await provider.create(inputs);
    expect(adopted.id).toBe(inputs.name);
    expect((await rest.get<string[]>("/connectors")).data.filter((n) => n === inputs.name)).toHaveLength(1);

    const other = await checked({ ...inputs, config: { ...inputs.config, "batch.size": "5" } });
    const message = await errorOf(provider.create(other));
    expect(message).toContain(`Connector '${inputs.name}' already exists on ${harness.connectUrl}`);
    expect(message).toContain("(keys: batch.size)");
  });

  it("many connectors applied at once, through the rebalances they cause, all reach RUNNING", async () => {
    const p = pipeline("many");
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, i) => checked(p.sink({ name: `${p.prefix}-sink-${i}`, validate: false }))),
    );
    const states = await Promise.all(all.map((inputs) => provider.create(inputs)));
    expect(states.map((s) => s.outs?.state)).toEqual(all.map(() => "running"));
    await Promise.all(states.map((s) => provider.delete(s.id, s.outs!)));
    const left = (await rest.get<string[]>("/connectors")).data.filter((n) => n.startsWith(`${p.prefix}-sink-`));
    expect(left).toEqual([]);
  });

  it("check rejects bad inputs, each naming its field, and reports the plugin's own validation errors", async () => {
    const p = pipeline("check");
    const bad = {
      ...p.sink(),
      name: " spaced ",
      cluster: { url: "connect:8083" },
      state: "sleeping",
      readyTimeoutSeconds: 0,
      offsetsPolicy: "forget",
      config: { ...p.sink().config, "database.history.kafka.topic": "h", "connection.password": "x" },
    } as unknown as KafkaConnectorInputs;
    const result = await provider.check({} as KafkaConnectorInputs, bad);
    const byField = (field: string) => (result.failures ?? []).filter((f) => f.property === field).map((f) => f.reason);
    expect(byField("name")).toHaveLength(1);
    expect(byField("cluster")[0]).toBe(
      "cluster.url: must be an http(s) URL of a Kafka Connect worker, got 'connect:8083'",
    );
    expect(byField("state")[0]).toBe("must be one of running, paused, stopped, got 'sleeping'");
    expect(byField("readyTimeoutSeconds")).toHaveLength(1);
    expect(byField("offsetsPolicy")[0]).toContain("keep, reset");
    expect(byField("config")).toContain(
      "'database.history.kafka.topic' is a Debezium 1.x (or Confluent) key: use 'schema.history.internal.kafka.topic'",
    );
    expect(byField("sensitiveConfig")[0]).toBe("keys in both config and sensitiveConfig: connection.password");

    const plugin = await provider.check({} as KafkaConnectorInputs, {
      ...p.sink(),
      config: { ...p.sink().config, "batch.size": "-1x" },
    });
    expect(plugin.failures?.map((f) => `${f.property}: ${f.reason}`)).toEqual([
      "config: batch.size: Invalid value -1x for configuration batch.size: Not a number of type INT",
    ]);
    const unknownClass = await provider.check({} as KafkaConnectorInputs, {
      ...p.sink(),
      config: { ...p.sink().config, "connector.class": "com.example.NoSuchConnector" },
    });
    expect(unknownClass.failures).toEqual([
      { property: "config", reason: expect.stringContaining("com.example.NoSuchConnector") as string },
    ]);

    // The real Debezium SQL Server plugin validates too, here failing to reach a server that is not there.
    const sqlserver = await provider.check({} as KafkaConnectorInputs, {
      ...p.source(),
      config: {
        "connector.class": "io.debezium.connector.sqlserver.SqlServerConnector",
        "database.hostname": "127.0.0.1",
        "database.port": "9",
        "database.user": "cdc_reader",
        "database.names": "inventory",
        "topic.prefix": "mssql",
        "schema.history.internal.kafka.bootstrap.servers": "127.0.0.1:59092",
        "schema.history.internal.kafka.topic": "mssql.history",
      },
      sensitiveConfig: { "database.password": "sql-secret-value" },
    });
    const reasons = (sqlserver.failures ?? []).map((f) => f.reason).join("\n");
    expect(reasons).toMatch(/database\.hostname: .*(connect|Connection)/i);
    expect(reasons).not.toContain("sql-secret-value");
  }, 180_000);

  it("delete succeeds on a connector already gone, and applies the offsets policy", async () => {
    const p = pipeline("offsets");
    await p.createSourceTable();
    await query("source", `INSERT INTO ${p.table} VALUES (1, 'Ada')`);

    // keep: a renamed source takes over the old one's offsets before it starts; the old one is stopped
    // first, as Pulumi creates the replacement before it deletes the original.
    const first = await create(p.source());
    await eventually(
      () => committed(first.name),
      (o) => o.length > 0,
    );
    const before = await committed(first.name);
    const renamedInputs = await checked(p.source({ name: `${p.prefix}-renamed` }), await checked(p.source()));
    expect(renamedInputs.offsetsFrom).toEqual({ url: harness.connectUrl, name: first.name });
    expect((await provider.diff(first.name, first, renamedInputs)).replaces).toEqual(["name"]);
    const renamed = (await provider.create(renamedInputs)).outs!;
    expect(renamed.state).toBe("running");
    expect((await liveStatus(first.name)).connector.state).toBe("STOPPED");
    expect(await committed(renamed.name)).toEqual(before);
    await provider.delete(first.name, first);
    await provider.delete(first.name, first);

    // reset: the offsets go with the connector.
    await provider.delete(renamed.name, { ...renamed, offsetsPolicy: "reset" });
    expect((await rest.get(`/connectors/${renamed.name}`)).status).toBe(404);
    const again = await create(p.source({ name: renamed.name, state: "stopped" }));
    expect(await committed(again.name)).toEqual([]);
  });

  it("adopts a hand-made source: refused unless its offsets' keys match, takes them over, deletes it, and a re-run converges", async () => {
    const p = pipeline("adopt");
    await p.createSourceTable();
    await query("source", `INSERT INTO ${p.table} VALUES (1, 'Ada')`);
    const http = connectHttp(cluster);
    const handMade = `${p.prefix}-by-hand`;
    const { config, sensitiveConfig } = p.source();
    await postConnector(http, handMade, { ...config, ...sensitiveConfig }, undefined, []);
    const before = await eventually(
      () => committed(handMade),
      (o) => o.length > 0,
    );
    const sameKeys = ADOPTION_KEYS.postgres;
    const declared = p.source({ adoptFrom: { name: handMade, sameKeys } });

    // Another slot than the hand-made one's: its offsets would point into a slot the new one does not read.
    const otherSlot = await provider.check({} as KafkaConnectorInputs, {
      ...declared,
      config: { ...declared.config, "slot.name": `${p.prefix}_other` },
    });
    expect(otherSlot.failures).toEqual([
      {
        property: "adoptFrom",
        reason: expect.stringMatching(`'${handMade}' has slot.name '${p.prefix}'.*set pipeline.slotName`) as string,
      },
    ]);
    const missing = await provider.check({} as KafkaConnectorInputs, {
      ...declared,
      adoptFrom: { name: `${p.prefix}-nowhere`, sameKeys },
    });
    expect(missing.failures?.map((f) => f.reason)).toEqual([
      expect.stringContaining(`'${p.prefix}-nowhere', is not on`),
    ]);
    expect((await liveStatus(handMade)).connector.state).toBe("RUNNING");

    const inputs = await checked(declared);
    expect(inputs.offsetsFrom).toEqual({ url: harness.connectUrl, name: handMade, adopted: true });
    const adopted = (await provider.create(inputs)).outs!;
    expect(adopted.state).toBe("running");
    expect((await rest.get(`/connectors/${handMade}`)).status).toBe(404);
    expect(await committed(adopted.name)).toEqual(before);

    // A run that failed after the hand-over and before recording it: the hand-made connector is gone, the new
    // one streams on its own offsets, which another create keeps.
    await query("source", `INSERT INTO ${p.table} VALUES (2, 'Grace')`);
    const moved = await eventually(
      () => committed(adopted.name),
      (o) => JSON.stringify(o) !== JSON.stringify(before),
    );
    const again = await checked(declared);
    expect((await provider.create(again)).outs!.state).toBe("running");
    expect(await committed(adopted.name)).toEqual(moved);
    // An existing resource adopts nothing: adoptFrom acts on first create only.
    expect((await checked(declared, { name: adopted.name, cluster })).offsetsFrom).toBeUndefined();
    await provider.delete(adopted.name, { ...adopted, offsetsPolicy: "reset" });
  });

  it("a new offsetsResetToken resets the source's offsets on update: it snapshots again", async () => {
    const p = pipeline("resnap");
    await p.createSourceTable();
    await query("source", `INSERT INTO ${p.table} VALUES (1, 'Ada'), (2, 'Grace')`);
    const source = await create(p.source());
    await create(p.sink());
    const rows = () => query("target", `SELECT id FROM ${p.table} ORDER BY id`).catch(() => []);
    await eventually(rows, (r) => r.length === 2);
    // The target loses its rows (as a rebuild empties it); only a new snapshot brings them back.
    await query("target", `TRUNCATE ${p.table}`);
    const same = await checked(p.source());
    expect((await provider.diff(source.name, source, same)).changes).toBe(false);
    const token = await checked(p.source({ offsetsResetToken: "restore-1" }), p.source());
    expect((await provider.diff(source.name, source, token)).changes).toBe(true);
    const updated = (await provider.update(source.name, source, token)).outs!;
    expect(updated).toMatchObject({ state: "running", offsetsResetToken: "restore-1" });
    expect(await eventually(rows, (r) => r.length === 2)).toEqual([{ id: 1 }, { id: 2 }]);

    // The same token again, or none, changes no offsets: nothing is snapshotted again.
    await query("target", `TRUNCATE ${p.table}`);
    await provider.update(source.name, updated, token);
    await provider.update(source.name, updated, same);
    await query("source", `INSERT INTO ${p.table} VALUES (3, 'Lin')`);
    expect(await eventually(rows, (r) => r.length > 0)).toEqual([{ id: 3 }]);
  });

  it("a reset gets past a task that failed before it: a sink reset reads its topic again", async () => {
    const p = pipeline("refail");
    await p.createSourceTable();
    await query("source", `INSERT INTO ${p.table} VALUES (1, 'Ada'), (2, 'Grace')`);
    await create(p.source());
    const sink = await create(p.sink());
    const rows = () => query("target", `SELECT id FROM ${p.table} ORDER BY id`).catch(() => []);
    await eventually(rows, (r) => r.length === 2);
    await query("target", `TRUNCATE ${p.table}`);
    // Broken by hand: the sink's task fails on the refused login, as a task whose database was just
    // replaced does. Stopping it on the way to the reset must not trip over that failure.
    const live = (await rest.get<Record<string, string>>(`/connectors/${sink.name}/config`)).data;
    await rest.put(`/connectors/${sink.name}/config`, { ...live, "connection.password": "wrong-password" });
    await eventually(
      async () => (await liveStatus(sink.name)) as unknown as { tasks: { state: string }[] },
      (status) => status.tasks.some((t) => t.state === "FAILED"),
    );
    const reset = await checked(p.sink({ offsetsResetToken: "restore-1" }), p.sink());
    const updated = (await provider.update(sink.name, sink, reset)).outs!;
    expect(updated.state).toBe("running");
    expect(await eventually(rows, (r) => r.length === 2)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("no secret in any message, output or worker log", () => {
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.join("\n")).not.toContain(harness.pgPassword);
    const workerLog = readFileSync(`${harness.env.CDC_RUN_DIR}/connect/connect.log`, "utf8");
    expect(workerLog).toContain("JdbcSinkConnector");
    expect(workerLog).not.toContain(harness.pgPassword);
  });
});

// Incremental snapshots on the harness, with the project's own pieces and the real services: the source made
// ready by applyCdc (publication, slot, heartbeat and signalling tables), the Debezium PostgreSQL source
// and JDBC sink configured as the stacks configure them, a signal written to the signalling table, and the
// connector's own notifications read from Kafka. The source starts with snapshot.mode no_data: the rows
// already in its table reach the target only through the incremental snapshots asked for here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jdbcSinkConfig, postgresSourceConfig } from "../../lib/debezium-configs";
import { deployConnector, removeConnector } from "../../lib/connector-lifecycle";
import { runIncrementalSnapshot, type SnapshotRequest } from "../../lib/incremental-snapshot";
import { applyCdc, dropCdc, type ReplicationSetup } from "../../lib/logical-replication";
import { withClient } from "../../lib/postgres";
import { cluster, eventually, query } from "../connectors";
import { harness } from "../harness";

const run = Date.now().toString(36);
const prefix = `it_snap_${run}`;
const table = `snap_${run}`;
const source = { ...harness.source, password: harness.pgPassword };
const setup: ReplicationSetup = {
  publication: `${prefix}_publication`,
  tables: [{ schema: "public", name: table }],
  slot: `${prefix}_slot`,
  replicationUser: "",
  replicationPassword: "",
  heartbeatTable: { schema: "public", name: `${prefix}_heartbeat` },
  signalTable: { schema: "public", name: `${prefix}_signal` },
};
const notificationTopic = `${prefix}.notifications`;
const collection = `public.${table}`;
const deployment = (name: string, config: Record<string, string>) => ({
  cluster,
  name,
  config,
  state: "running" as const,
  readyTimeoutSeconds: 60,
});
const sourceDeployment = deployment(`${prefix}-source`, {
  ...postgresSourceConfig({
    ...harness.source,
    topicPrefix: prefix,
    tables: [collection],
    publication: setup.publication,
    slot: setup.slot,
    heartbeatTable: setup.heartbeatTable!,
    signalTable: setup.signalTable!,
    notificationTopic,
    snapshotMode: "no_data",
    topicCreation: { replicationFactor: 1 },
  }),
  "database.password": harness.pgPassword,
});
const sinkDeployment = deployment(`${prefix}-sink`, {
  ...jdbcSinkConfig({
    ...harness.target,
    topics: [`${prefix}.${collection}`],
    schema: "public",
    deadLetterTopic: `${prefix}.dead-letter`,
    deadLetterReplicationFactor: 1,
  }),
  "connection.password": harness.pgPassword,
});
const removal = (d: typeof sourceDeployment) => ({
  ...d,
  offsetsPolicy: "reset",
  workerVersion: "4.3.1",
  readyTimeoutSeconds: 60,
});

const targetIds = async () =>
  (await query<{ id: number }>("target", `SELECT id FROM ${table} ORDER BY id`).catch(() => [])).map((r) => r.id);

/** Signals a snapshot and returns its scans, as resync, repair and the backfills do. */
const snapshot = async (request: SnapshotRequest) =>
  (
    await runIncrementalSnapshot(
      { source: { ...source, engine: "postgres" }, table: setup.signalTable! },
      { bootstrapServers: harness.env.CDC_KAFKA_BOOTSTRAP, topic: notificationTopic },
      request,
      120_000,
    )
  ).scans;

beforeAll(async () => {
  await query("source", `CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL)`);
  await query("source", `INSERT INTO ${table} SELECT g, 'row ' || g FROM generate_series(1, 5) g`);
  await withClient(source, (client) => applyCdc(client, setup));
  await deployConnector(sinkDeployment, undefined, []);
  await deployConnector(sourceDeployment, undefined, []);
}, 180_000);

afterAll(async () => {
  for (const d of [sourceDeployment, sinkDeployment]) await removeConnector(removal(d), []).catch(() => undefined);
  await eventually(
    () =>
      query<{ active: boolean }>("source", "SELECT active FROM pg_replication_slots WHERE slot_name = $1", [
        setup.slot,
      ]),
    (rows) => rows.every((r) => !r.active),
  );
  await withClient(source, (client) => dropCdc(client, setup));
  await query("source", `DROP TABLE IF EXISTS ${table}`);
  await query("target", `DROP TABLE IF EXISTS ${table}`);
}, 120_000);

describe("an incremental snapshot through the signalling table", () => {
  it("reads the existing rows while streaming goes on, and the connector's notification says so", async () => {
    // Streaming: a row written now arrives, though the rows before the connector did not (no_data).
    await query("source", `INSERT INTO ${table} VALUES (6, 'streamed')`);
    await eventually(targetIds, (ids) => ids.includes(6));
    expect(await targetIds()).toEqual([6]);

    expect(await snapshot({ dataCollections: [collection] })).toEqual([
      { dataCollection: collection, status: "SUCCEEDED", rows: 6 },
    ]);
    expect(await eventually(targetIds, (ids) => ids.length === 6)).toEqual([1, 2, 3, 4, 5, 6]);
  }, 240_000);

  it("with a condition, reads only the rows it selects", async () => {
    await query("target", `DELETE FROM ${table}`);
    await query("source", `UPDATE ${table} SET name = 'changed' WHERE id = 1`);
    await eventually(targetIds, (ids) => ids.includes(1));
    const [scan] = await snapshot({ dataCollections: [collection], conditions: { [collection]: "id > 4" } });
    expect(scan).toEqual({ dataCollection: collection, status: "SUCCEEDED", rows: 2 });
    expect(await eventually(targetIds, (ids) => ids.length === 3)).toEqual([1, 5, 6]);
  }, 240_000);

  it("a condition the database refuses: the connector skips the table, says SQL_EXCEPTION, and streams on", async () => {
    // What resync's own check keeps from happening.
    await expect(
      snapshot({ dataCollections: [collection], conditions: { [collection]: "no_such_column > 1" } }),
    ).rejects.toThrow(`the connector did not read ${collection} (SQL_EXCEPTION)`);
    await query("source", `INSERT INTO ${table} VALUES (7, 'after')`);
    await eventually(targetIds, (ids) => ids.includes(7));
  }, 240_000);
});

// The backfills on the harness, as `pulumi up` runs them: the providers PostgresCdc, KafkaConnector and
// SourceBackfill, called in the order the engine calls them, against the real PostgreSQL pair, Kafka and
// Kafka Connect with the Debezium plugins. A table added later gets its existing rows while streaming goes
// on; a slot dropped by hand while rows are inserted, updated and deleted is made again, the source resumes
// at it and every table is backfilled: reconcile then matches, and the target was never emptied.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jdbcSinkConfig, postgresResumePoint, postgresSourceConfig } from "../../lib/debezium-configs";
import { reconcileTable, withPostgresSide } from "../../lib/reconcile";
import {
  kafkaConnectorProvider,
  type KafkaConnectorInputs,
  type KafkaConnectorState,
} from "../../providers/kafka-connector";
import { postgresCdcProvider, type PostgresCdcInputs, type PostgresCdcState } from "../../providers/postgres-cdc";
import {
  sourceBackfillProvider,
  type SourceBackfillInputs,
  type SourceBackfillState,
} from "../../providers/source-backfill";
import { cluster, eventually, query } from "../connectors";
import { harness } from "../harness";

const run = Date.now().toString(36);
const prefix = `it_fill_${run}`;
const [first, added] = [`fill_a_${run}`, `fill_b_${run}`];
const source = { ...harness.source, password: harness.pgPassword };
const target = { ...harness.target, password: harness.pgPassword };
const signalTable = { schema: "public", name: `${prefix}_signal` };
const slot = `${prefix}_slot`;
const tableOf = (name: string) => ({
  schema: "public",
  name,
  columns: [
    { name: "id", type: "integer" },
    { name: "name", type: "text" },
  ],
  primaryKey: ["id"],
});

const cdcInputs = (tables: string[]): PostgresCdcInputs => ({
  ...source,
  publication: `${prefix}_publication`,
  tables: tables.map((name) => ({ schema: "public", name })),
  slot,
  replicationUser: "",
  replicationPassword: "",
  heartbeatTable: { schema: "public", name: `${prefix}_heartbeat` },
  signalTable,
});
const connector = (name: string, config: Record<string, string>, secret: Record<string, string>) =>
  ({ cluster, name, config, sensitiveConfig: secret, readyTimeoutSeconds: 60 }) as unknown as KafkaConnectorInputs;
const sourceInputs = (tables: string[], slotCreatedAt?: string): KafkaConnectorInputs => ({
  ...connector(
    `${prefix}-source`,
    postgresSourceConfig({
      ...harness.source,
      topicPrefix: prefix,
      tables: tables.map((t) => `public.${t}`),
      publication: `${prefix}_publication`,
      slot,
      heartbeatTable: { schema: "public", name: `${prefix}_heartbeat` },
      signalTable,
      notificationTopic: `${prefix}.notifications`,
      topicCreation: { replicationFactor: 1 },
    }),
    { "database.password": harness.pgPassword },
  ),
  // As the component declares the source: offsets reset on delete, and it resumes where PostgresCdc says.
  offsetsPolicy: "reset",
  resumeFrom: slotCreatedAt ? postgresResumePoint(prefix, slot, slotCreatedAt) : undefined,
});
const sinkInputs = (tables: string[]) =>
  connector(
    `${prefix}-sink`,
    jdbcSinkConfig({
      ...harness.target,
      topics: tables.map((t) => `${prefix}.public.${t}`),
      schema: "public",
      deadLetterTopic: `${prefix}.dead-letter`,
      deadLetterReplicationFactor: 1,
    }),
    { "connection.password": harness.pgPassword },
  );
const backfillInputs = (tables: string[], resumeToken?: string) =>
  ({
    source: { ...source, engine: "postgres" },
    target: { ...target, schema: "public" },
    signalTable,
    notifications: { bootstrapServers: harness.env.CDC_KAFKA_BOOTSTRAP, topic: `${prefix}.notifications` },
    tables: tables.map(tableOf),
    resumeToken,
    timeoutSeconds: 120,
  }) as SourceBackfillInputs;

/** The provider's inputs once its check has normalised them, as the engine passes them on. */
async function checked<T>(
  provider: { check: (o: T, n: T) => Promise<{ inputs?: unknown; failures?: unknown[] }> },
  olds: T,
  news: T,
) {
  const result = await provider.check(olds, news);
  expect(result.failures ?? []).toEqual([]);
  return result.inputs as T;
}

let cdc: PostgresCdcState;
let sourceState: KafkaConnectorState;
let sinkState: KafkaConnectorState;
let backfill: SourceBackfillState;

/** One `pulumi up` of the four resources, in the engine's order: each is updated when its diff says so. */
async function up(tables: string[]) {
  const cdcNews = await checked(postgresCdcProvider, cdc, cdcInputs(tables));
  if ((await postgresCdcProvider.diff(slot, cdc, cdcNews)).changes) {
    cdc = (await postgresCdcProvider.update(slot, cdc, cdcNews)).outs!;
  }
  for (const [inputs, state] of [
    [sourceInputs(tables, cdc.slotCreatedAt), sourceState],
    [sinkInputs(tables), sinkState],
  ] as const) {
    const news = await checked(kafkaConnectorProvider, state as unknown as KafkaConnectorInputs, inputs);
    const next = (await kafkaConnectorProvider.diff(state.name, state, news)).changes
      ? (await kafkaConnectorProvider.update(state.name, state, news)).outs!
      : state;
    if (state === sourceState) sourceState = next;
    else sinkState = next;
  }
  const news = await checked(sourceBackfillProvider, backfill, backfillInputs(tables, sourceState.resumeFrom?.token));
  if ((await sourceBackfillProvider.diff("b", backfill, news)).changes) {
    backfill = (await sourceBackfillProvider.update("b", backfill, news)).outs!;
  }
}

const ids = async (table: string) =>
  (await query<{ id: number }>("target", `SELECT id FROM ${table} ORDER BY id`).catch(() => [])).map((r) => r.id);
const matches = (table: string) =>
  withPostgresSide(source, (s) =>
    withPostgresSide(target, (t) =>
      reconcileTable(s, t, {
        ...tableOf(table),
        source: { schema: "public", name: table },
        target: { schema: "public", name: table },
      }),
    ),
  );

beforeAll(async () => {
  for (const t of [first, added]) {
    await query("source", `CREATE TABLE ${t} (id int PRIMARY KEY, name text NOT NULL)`);
    await query("source", `INSERT INTO ${t} SELECT g, 'row ' || g FROM generate_series(1, 20) g`);
  }
  cdc = (
    await postgresCdcProvider.create(await checked(postgresCdcProvider, {} as PostgresCdcState, cdcInputs([first])))
  ).outs!;
  expect(cdc.slotCreatedAt).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  sinkState = (
    await kafkaConnectorProvider.create(
      await checked(kafkaConnectorProvider, {} as KafkaConnectorInputs, sinkInputs([first])),
    )
  ).outs!;
  sourceState = (
    await kafkaConnectorProvider.create(
      await checked(kafkaConnectorProvider, {} as KafkaConnectorInputs, sourceInputs([first], cdc.slotCreatedAt)),
    )
  ).outs!;
  backfill = (
    await sourceBackfillProvider.create(
      await checked(
        sourceBackfillProvider,
        {} as SourceBackfillState,
        backfillInputs([first], sourceState.resumeFrom?.token),
      ),
    )
  ).outs!;
  // The initial snapshot reads the first table.
  await eventually(
    () => ids(first),
    (rows) => rows.length === 20,
    120_000,
  );
}, 240_000);

afterAll(async () => {
  for (const state of [sourceState, sinkState])
    await kafkaConnectorProvider.delete(state.name, state).catch(() => undefined);
  await eventually(
    () => query<{ active: boolean }>("source", "SELECT active FROM pg_replication_slots WHERE slot_name = $1", [slot]),
    (rows) => rows.every((r) => !r.active),
  );
  await postgresCdcProvider.delete(slot, cdc).catch(() => undefined);
  for (const t of [first, added]) {
    await query("source", `DROP TABLE IF EXISTS ${t}`);
    await query("target", `DROP TABLE IF EXISTS ${t}`);
  }
}, 120_000);

describe("SourceBackfill", () => {
  it("backfills a table added to the captured tables: its existing rows arrive, and streaming goes on", async () => {
    await up([first, added]);
    expect(backfill.lastBackfill).toEqual({
      tables: [`public.${added}`],
      rows: { [`public.${added}`]: 20 },
      deleted: {},
      reason: "new tables",
    });
    expect(
      await eventually(
        () => ids(added),
        (rows) => rows.length === 20,
      ),
    ).toHaveLength(20);
    await query("source", `INSERT INTO ${added} VALUES (21, 'streamed')`);
    await eventually(
      () => ids(added),
      (rows) => rows.includes(21),
    );
    // Another up with nothing new does nothing.
    const before = backfill;
    await up([first, added]);
    expect(backfill).toBe(before);
  }, 300_000);

  it("heals a slot dropped by hand while rows changed: the source resumes at the new slot, every table is backfilled, extras deleted, the target never emptied", async () => {
    const rowsSeen: number[] = [];
    const watch = setInterval(() => void ids(first).then((r) => rowsSeen.push(r.length)), 200);
    try {
      // The connector lets go of the slot when its walsender is ended; the slot is dropped before it is back.
      await query(
        "source",
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL",
        [slot],
      );
      await eventually(
        () =>
          query(
            "source",
            "SELECT pg_drop_replication_slot(slot_name) AS dropped FROM pg_replication_slots WHERE slot_name = $1 AND NOT active",
            [slot],
          ).catch(() => []),
        (rows) => rows.length === 1,
        30_000,
      );
      // The gap: written while no slot keeps the changes.
      await query("source", `INSERT INTO ${first} VALUES (100, 'in the gap')`);
      await query("source", `UPDATE ${first} SET name = 'changed in the gap' WHERE id = 2`);
      await query("source", `DELETE FROM ${first} WHERE id = 3`);

      // What refresh then sees: the slot is missing (drift); `up` makes it again.
      cdc = (await postgresCdcProvider.read(slot, cdc)).props as PostgresCdcState;
      expect(cdc.slotExists).toBe(false);
      const lostAt = cdc.slotCreatedAt;
      await up([first, added]);
      expect(cdc.slotCreatedAt).not.toBe(lostAt);
      expect(sourceState.resumeFrom?.token).toBe(`${slot}@${cdc.slotCreatedAt}`);
      expect(backfill.lastBackfill).toMatchObject({
        reason: "resumed at a new position",
        deleted: { [`public.${first}`]: 1, [`public.${added}`]: 0 },
      });

      // Streaming resumed at the new slot.
      await query("source", `INSERT INTO ${first} VALUES (101, 'after')`);
      await eventually(
        () => ids(first),
        (rows) => rows.includes(101) && rows.includes(100) && !rows.includes(3),
      );
      for (const t of [first, added]) {
        const report = await eventually(
          () => matches(t),
          (r) => r.severity === "OK",
          60_000,
        );
        expect(report.missing.length + report.extra.length + report.changed.length).toBe(0);
      }
    } finally {
      clearInterval(watch);
    }
    expect(Math.min(...rowsSeen)).toBeGreaterThan(0);
  }, 300_000);
});

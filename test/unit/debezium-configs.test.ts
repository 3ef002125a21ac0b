// The connector configs' layers: the project's defaults, the operator's extra settings over them, and the keys
// derived from the rest of the stack over both; DERIVED_KEYS lists exactly the derived keys of each builder.
import { describe, expect, it } from "vitest";
import {
  DERIVED_KEYS,
  jdbcSinkConfig,
  POSTGRES_SOURCE_DEFAULTS,
  postgresSourceConfig,
  SINK_DEFAULTS,
  SOURCE_REQUIRED_ENTRIES,
  sqlServerSourceConfig,
} from "../../lib/debezium-configs";

const db = { host: "db", port: 5432, database: "d", user: "u" };
const source = { ...db, topicPrefix: "p", tables: ["s.t"] };
const build = {
  sqlserver: (knobs = {}) =>
    sqlServerSourceConfig({ ...source, kafkaBootstrap: "k:9092", schemaHistoryTopic: "h", ...signalling }, knobs),
  postgres: (knobs = {}) =>
    postgresSourceConfig(
      { ...source, publication: "pub", slot: "slot", heartbeatTable: { schema: "s", name: "hb" }, ...signalling },
      knobs,
    ),
  sink: (knobs = {}) => jdbcSinkConfig({ ...db, topics: ["a"], schema: "s", deadLetterTopic: "dlq" }, knobs),
};
const signalling = { signalTable: { schema: "s", name: "sig" }, notificationTopic: "p.notifications" };
const DEFAULTS = { sqlserver: SOURCE_REQUIRED_ENTRIES, postgres: POSTGRES_SOURCE_DEFAULTS, sink: SINK_DEFAULTS };

describe("connector configs", () => {
  it("hold the defaults, and the derived keys DERIVED_KEYS names (the passwords go in sensitiveConfig)", () => {
    for (const kind of ["sqlserver", "postgres", "sink"] as const) {
      const config = build[kind]();
      // Retention only when set: absent, the topics take the brokers'.
      const derived = Object.keys(DERIVED_KEYS[kind]).filter(
        (k) => !k.endsWith("password") && k !== "topic.creation.default.retention.ms",
      );
      expect(Object.keys(config).sort(), kind).toEqual([...Object.keys(DEFAULTS[kind]), ...derived].sort());
      expect(config, kind).toMatchObject(DEFAULTS[kind]);
    }
    expect(build.postgres()["heartbeat.interval.ms"]).toBe("10000");
    expect(build.postgres()["heartbeat.action.query"]).toBe(
      'INSERT INTO "s"."hb" (id, beat) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET beat = EXCLUDED.beat',
    );
    // Signals through the signalling table, notifications to their topic: what resync and repair use.
    expect(build.postgres()).toMatchObject({
      "signal.enabled.channels": "source",
      "signal.data.collection": "s.sig",
      "notification.enabled.channels": "sink",
      "notification.sink.topic.name": "p.notifications",
    });
    expect(build.sink()["insert.mode"]).toBe("upsert");
  });

  it("create the change topics as the stack says, or as the brokers' defaults say", () => {
    const topicCreation = { replicationFactor: 3, partitions: 6, retentionMs: 604_800_000 };
    const pg = postgresSourceConfig(
      {
        ...source,
        publication: "pub",
        slot: "slot",
        heartbeatTable: { schema: "s", name: "hb" },
        ...signalling,
        topicCreation,
      },
      {},
    );
    expect(pg).toMatchObject({
      "topic.creation.default.replication.factor": "3",
      "topic.creation.default.partitions": "6",
      "topic.creation.default.retention.ms": "604800000",
    });
    expect(build.sqlserver()).toMatchObject({
      "topic.creation.default.replication.factor": "-1",
      "topic.creation.default.partitions": "-1",
    });
    expect(build.sqlserver()).not.toHaveProperty("topic.creation.default.retention.ms");
  });

  it("lay extra settings over the defaults, as strings, and take tasks.max from the knobs", () => {
    const sink = build.sink({ tasksMax: 3, settings: { "insert.mode": "insert", "batch.size": 500, "x.flag": true } });
    expect(sink).toMatchObject({ "insert.mode": "insert", "batch.size": "500", "x.flag": "true", "tasks.max": "3" });
    const pg = build.postgres({ settings: { "heartbeat.interval.ms": 2500 } });
    expect(pg["heartbeat.interval.ms"]).toBe("2500");
  });

  it("keep every derived key over an extra setting of it", () => {
    for (const kind of ["sqlserver", "postgres", "sink"] as const) {
      const plain = build[kind]();
      const settings = Object.fromEntries(Object.keys(DERIVED_KEYS[kind]).map((k) => [k, "overridden"]));
      const config = build[kind]({ settings });
      for (const key of Object.keys(plain)) expect(config[key], `${kind} ${key}`).toBe(plain[key]);
    }
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { allRegistered, outputOf, recordResources, type Registered, registeredOutputs, valueOf } from "./mocks";

let registered: Registered[];
let CdcPipeline: typeof import("../../components/cdc-pipeline").CdcPipeline;
type CdcPipelineArgs = import("../../components/cdc-pipeline").CdcPipelineArgs;
beforeAll(async () => {
  // The connectors as a worker would report them once running.
  registered = await recordResources(
    "unit",
    {},
    {},
    {
      "pulumi-nodejs:dynamic/cdc-pipeline:KafkaConnector": (name) => ({ state: "running", topics: [`${name}-topic`] }),
      // As PostgresCdc reports a slot it made.
      "pulumi-nodejs:dynamic/cdc-pipeline:PostgresCdc": () => ({ slotCreatedAt: "16/B374D848" }),
      "pulumi-nodejs:dynamic/cdc-pipeline:SqlServerCdc": () => ({ resumeAt: "0000002d00000af80003" }),
    },
  );
  ({ CdcPipeline } = await import("../../components/cdc-pipeline"));
});

/** A secret input as the engine receives it: Pulumi's secret signature around the value. */
const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });

const db = { host: "db", port: 1433, database: "inventory", user: "cdc", password: "pw" };
const tables = [
  { schema: "dbo", name: "customers", columns: [{ name: "id", type: "integer" }], primaryKey: ["id"] },
  { schema: "dbo", name: "orders", columns: [{ name: "id", type: "integer" }], primaryKey: ["id"] },
];

async function build(
  name: string,
  sourceEngine: "sqlserver" | "postgres",
  args: Partial<CdcPipelineArgs> = {},
): Promise<Map<string, Registered>> {
  const before = registered.length;
  const p = new CdcPipeline(name, {
    connect: { url: "http://connect:8083" },
    kafkaBootstrap: "kafka:9092",
    sourceEngine,
    source: db,
    target: { ...db, port: 5432, schema: "warehouse" },
    tables,
    topicPrefix: "Inventory-DR",
    replicationFactor: 1,
    ...args,
  });
  const parts = [p.cdc, p.targetSchema, p.sourceConnector, p.sinkConnector, ...(p.backfill ? [p.backfill] : [])];
  await Promise.all(parts.map((r) => valueOf(r.urn)));
  return new Map(registered.slice(before).map((r) => [r.name, r]));
}

describe("CdcPipeline", () => {
  it("for SQL Server: CDC on the tables, a SQL Server source with its schema history, the JDBC sink", async () => {
    const r = await build("mssql", "sqlserver");
    expect(r.get("mssql-cdc")?.type).toBe("pulumi-nodejs:dynamic/cdc-pipeline:SqlServerCdc");
    // The declared columns are the captured ones; the source connector's progress decides when an old
    // capture instance may be retired.
    expect(r.get("mssql-cdc")?.inputs.tables).toEqual([
      { schema: "dbo", name: "customers", capturedColumns: ["id"] },
      { schema: "dbo", name: "orders", capturedColumns: ["id"] },
    ]);
    expect(r.get("mssql-cdc")?.inputs.connector).toEqual(
      secret({ cluster: { url: "http://connect:8083" }, name: "Inventory-DR-source" }),
    );
    expect(r.get("mssql-source")?.inputs.config).toMatchObject({
      "connector.class": "io.debezium.connector.sqlserver.SqlServerConnector",
      "database.names": "inventory",
      "topic.prefix": "Inventory-DR",
      "table.include.list": "dbo.customers,dbo.orders",
      "schema.history.internal.kafka.bootstrap.servers": "kafka:9092",
      "schema.history.internal.kafka.topic": "Inventory-DR.schema-history",
      "snapshot.mode": "initial",
    });
    expect(r.get("mssql-sink")?.inputs.config).toMatchObject({
      // Debezium's SQL Server connector names topics in multi-partition mode: the database comes first.
      topics: "Inventory-DR.inventory.dbo.customers,Inventory-DR.inventory.dbo.orders",
      "insert.mode": "upsert",
      "delete.enabled": "true",
      "primary.key.mode": "record_key",
      "collection.name.format": "warehouse.${source.table}",
      "errors.deadletterqueue.topic.name": "Inventory-DR.dead-letter",
      "errors.deadletterqueue.topic.replication.factor": "1",
    });
    expect(r.get("mssql-schema")?.inputs.schema).toBe("warehouse");
  });

  it("gives each part its knobs: the tables' SQL Server options, the connectors' state, tasks, settings and ignored keys, the topics' creation, allowDestructive", async () => {
    const before = registered.length;
    const p = new CdcPipeline("knobs", {
      connect: { url: "http://connect:8083" },
      kafkaBootstrap: "kafka:9092",
      sourceEngine: "sqlserver",
      source: db,
      target: { ...db, port: 5432, schema: "warehouse", allowDestructive: true },
      tables: [{ ...tables[0], sqlServer: { gatingRole: "cdc_readers", netChanges: true, filegroup: "CDC_FG" } }],
      topicPrefix: "knobs",
      replicationFactor: 3,
      topicPartitions: 6,
      topicRetentionMs: 86_400_000,
      connectors: {
        source: { settings: { "poll.interval.ms": 250 }, ignoreKeys: ["transforms"] },
        sink: { state: "paused", tasksMax: 4, settings: { "batch.size": 500 } },
      },
    });
    const parts = [p.cdc, p.targetSchema, p.sourceConnector, p.sinkConnector, ...(p.backfill ? [p.backfill] : [])];
    await Promise.all(parts.map((r) => valueOf(r.urn)));
    const r = new Map(registered.slice(before).map((x) => [x.name, x]));
    expect(r.get("knobs-cdc")?.inputs.tables).toEqual([
      {
        schema: "dbo",
        name: "customers",
        capturedColumns: ["id"],
        role: "cdc_readers",
        supportsNetChanges: true,
        filegroup: "CDC_FG",
      },
    ]);
    expect(r.get("knobs-schema")?.inputs.allowDestructive).toBe(true);
    expect(r.get("knobs-source")?.inputs.state).toBeUndefined();
    expect(r.get("knobs-source")?.inputs.ignoreKeys).toEqual(["transforms"]);
    expect(r.get("knobs-source")?.inputs.config).toMatchObject({
      "poll.interval.ms": "250",
      "tasks.max": "1",
      "topic.creation.default.replication.factor": "3",
      "topic.creation.default.partitions": "6",
      "topic.creation.default.retention.ms": "86400000",
    });
    expect(r.get("knobs-sink")?.inputs.state).toBe("paused");
    expect(r.get("knobs-sink")?.inputs.config).toMatchObject({
      "tasks.max": "4",
      "batch.size": "500",
      "errors.deadletterqueue.topic.replication.factor": "3",
    });
  });

  it("orders the work: connectors after CDC and the target tables, the source also after a rebuild empties them", async () => {
    const r = await build("ordered", "postgres");
    expect(r.get("ordered-source")?.dependsOn).toEqual(expect.arrayContaining(["ordered-cdc", "ordered-schema"]));
    expect(r.get("ordered-sink")?.dependsOn).toContain("ordered-schema");
    expect(r.get("ordered-cdc")?.dependsOn).toEqual([]);
    expect(r.get("ordered-schema")?.dependsOn).toEqual([]);
    expect(r.get("ordered-source")?.inputs.offsetsResetToken).toBeUndefined();
  });

  it("a rebuild token empties the target tables and resets the source's offsets, not the sink's", async () => {
    const r = await build("rebuilt", "postgres", { rebuild: "restore-2026-11-24" });
    expect(r.get("rebuilt-schema")?.inputs.rebuildToken).toBe("restore-2026-11-24");
    expect(r.get("rebuilt-source")?.inputs.offsetsResetToken).toBe("restore-2026-11-24");
    expect(r.get("rebuilt-sink")?.inputs.offsetsResetToken).toBeUndefined();
  });

  it("for PostgreSQL: a publication and a slot made by PostgresCdc, which the source connector uses", async () => {
    const r = await build("pg", "postgres");
    expect(r.get("pg-cdc")?.inputs).toMatchObject({
      publication: "Inventory-DR_publication",
      slot: "inventory_dr_slot",
    });
    expect(r.get("pg-source")?.inputs.config).toMatchObject({
      "publication.name": "Inventory-DR_publication",
      "publication.autocreate.mode": "disabled",
      "slot.name": "inventory_dr_slot",
      "plugin.name": "pgoutput",
    });
    expect(r.get("pg-sink")?.inputs.config).toMatchObject({
      topics: "Inventory-DR.dbo.customers,Inventory-DR.dbo.orders",
    });
  });

  it("adopting hand-made connectors: their slot and publication, or schema history, and the keys their offsets need", async () => {
    const adopt = (name: string, sourceEngine: "sqlserver" | "postgres") =>
      build(name, sourceEngine, {
        topicPrefix: "sqlserver",
        slotName: sourceEngine === "postgres" ? "debezium" : undefined,
        publicationName: sourceEngine === "postgres" ? "dbz_publication" : undefined,
        schemaHistoryTopic: sourceEngine === "sqlserver" ? "schema-changes.warehouse" : undefined,
        connectors: {
          source: { adoptFrom: `${sourceEngine}-source-connector` },
          sink: { adoptFrom: "postgres-sink-connector" },
        },
      });
    const pg = await adopt("adopt-pg", "postgres");
    expect(pg.get("adopt-pg-cdc")?.inputs).toMatchObject({ publication: "dbz_publication", slot: "debezium" });
    expect(pg.get("adopt-pg-source")?.inputs.config).toMatchObject({
      "slot.name": "debezium",
      "publication.name": "dbz_publication",
    });
    expect(pg.get("adopt-pg-source")?.inputs.adoptFrom).toEqual({
      name: "postgres-source-connector",
      sameKeys: expect.objectContaining({
        "slot.name": { setBy: "pipeline.slotName", pluginDefault: "debezium" },
        "topic.prefix": { setBy: "pipeline.topicPrefix" },
      }) as object,
    });
    expect(pg.get("adopt-pg-sink")?.inputs.adoptFrom).toEqual({ name: "postgres-sink-connector", sameKeys: {} });
    const mssql = await adopt("adopt-mssql", "sqlserver");
    expect(mssql.get("adopt-mssql-source")?.inputs.config).toMatchObject({
      "schema.history.internal.kafka.topic": "schema-changes.warehouse",
    });
    const sameKeys = (mssql.get("adopt-mssql-source")?.inputs.adoptFrom as { sameKeys: object }).sameKeys;
    expect(Object.keys(sameKeys).sort()).toEqual([
      "database.names",
      "schema.history.internal.kafka.topic",
      "topic.prefix",
    ]);
    // Without adoptFrom, nothing to adopt.
    expect((await build("plain", "postgres")).get("plain-source")?.inputs.adoptFrom).toBeUndefined();
  });

  it("for PostgreSQL: the source resumes at the slot PostgresCdc made; the backfill follows both connectors", async () => {
    const r = await build("heal", "postgres");
    const resumeFrom = {
      token: "inventory_dr_slot@16/B374D848",
      offsets: [{ partition: { server: "Inventory-DR" }, offset: { lsn: 0x16 * 2 ** 32 + 0xb374d848 } }],
    };
    expect(r.get("heal-source")?.inputs.resumeFrom).toEqual(resumeFrom);
    expect(r.get("heal-sink")?.inputs.resumeFrom).toBeUndefined();
    const backfill = r.get("heal-backfill");
    expect(backfill?.type).toBe("pulumi-nodejs:dynamic/cdc-pipeline:SourceBackfill");
    expect(backfill?.inputs).toMatchObject({
      signalTable: { schema: "dbo", name: "inventory_dr_cdc_signal" },
      notifications: { bootstrapServers: "kafka:9092", topic: "Inventory-DR.notifications" },
      resumeToken: "inventory_dr_slot@16/B374D848",
      tables: tables.map((t) => ({ ...t })),
    });
    expect(backfill?.inputs.source).toEqual(
      secret({ host: "db", port: 1433, database: "inventory", user: "cdc", password: "pw", engine: "postgres" }),
    );
    expect(backfill?.dependsOn).toEqual(expect.arrayContaining(["heal-source", "heal-sink"]));
  });

  it("for SQL Server: the signalling table is captured, the source resumes at SqlServerCdc's resumeAt, the backfill follows", async () => {
    const r = await build("mheal", "sqlserver");
    const signalTable = { schema: "dbo", name: "inventory_dr_cdc_signal" };
    expect(r.get("mheal-cdc")?.inputs.signalTable).toEqual(signalTable);
    expect(r.get("mheal-source")?.inputs.config).toMatchObject({
      "signal.data.collection": "inventory.dbo.inventory_dr_cdc_signal",
      "signal.enabled.channels": "source",
      "notification.enabled.channels": "sink",
      "notification.sink.topic.name": "Inventory-DR.notifications",
    });
    expect(r.get("mheal-source")?.inputs.resumeFrom).toEqual({
      token: "inventory@0000002d00000af80003",
      offsets: [
        {
          partition: { server: "Inventory-DR", database: "inventory" },
          offset: { commit_lsn: "0000002d:00000af8:0003" },
        },
      ],
    });
    const backfill = r.get("mheal-backfill");
    expect(backfill?.inputs).toMatchObject({ signalTable, resumeToken: "inventory@0000002d00000af80003" });
    expect(backfill?.inputs.source).toMatchObject(secret({ engine: "sqlserver", host: "db", database: "inventory" }));
    expect(backfill?.dependsOn).toEqual(expect.arrayContaining(["mheal-source", "mheal-sink"]));
  });

  it("puts a PostgreSQL source's heartbeat and signalling tables in the first captured schema by name, whatever the tables' order", async () => {
    const sales = { ...tables[0], schema: "sales" };
    const inventory = { ...tables[1], schema: "inventory" };
    for (const [name, order] of [
      ["beat1", [sales, inventory]],
      ["beat2", [inventory, sales]],
    ] as const) {
      const r = await build(name, "postgres", { tables: [...order] });
      expect(r.get(`${name}-cdc`)?.inputs.heartbeatTable).toEqual({
        schema: "inventory",
        name: "inventory_dr_cdc_heartbeat",
      });
      expect(r.get(`${name}-cdc`)?.inputs.signalTable).toEqual({
        schema: "inventory",
        name: "inventory_dr_cdc_signal",
      });
      expect(r.get(`${name}-source`)?.inputs.config).toMatchObject({
        "heartbeat.action.query": expect.stringContaining('"inventory"."inventory_dr_cdc_heartbeat"') as string,
        "signal.data.collection": "inventory.inventory_dr_cdc_signal",
        "notification.sink.topic.name": "Inventory-DR.notifications",
      });
    }
  });

  it("without a connector login, the source connector reads as the source's user", async () => {
    const r = await build("admin", "postgres");
    expect(r.get("admin-source")?.inputs.config).toMatchObject({ "database.user": "cdc" });
    expect(r.get("admin-source")?.inputs.sensitiveConfig).toEqual(secret({ "database.password": "pw" }));
    expect(r.get("admin-cdc")?.inputs.replicationUser).toBeUndefined();
  });

  it("with a connector login, the CDC resource creates it and the source connector reads as it", async () => {
    const login = { user: "cdc_connector", password: "connector-pw" };
    const pg = await build("pglogin", "postgres", { connectorLogin: login });
    expect(pg.get("pglogin-cdc")?.inputs).toMatchObject({ user: "cdc", replicationUser: "cdc_connector" });
    expect(pg.get("pglogin-cdc")?.inputs.replicationPassword).toEqual(secret("connector-pw"));
    expect(pg.get("pglogin-source")?.inputs.config).toMatchObject({ "database.user": "cdc_connector" });
    expect(pg.get("pglogin-source")?.inputs.sensitiveConfig).toEqual(secret({ "database.password": "connector-pw" }));

    const mssql = await build("mslogin", "sqlserver", { connectorLogin: login });
    expect(mssql.get("mslogin-cdc")?.inputs).toMatchObject({ user: "cdc", connectorLogin: "cdc_connector" });
    expect(mssql.get("mslogin-cdc")?.inputs.connectorPassword).toEqual(secret("connector-pw"));
    expect(mssql.get("mslogin-source")?.inputs.config).toMatchObject({ "database.user": "cdc_connector" });
    expect(mssql.get("mslogin-source")?.inputs.sensitiveConfig).toEqual(
      secret({ "database.password": "connector-pw" }),
    );
  });

  it("takes other resources' outputs: each reaches the resources it configures, which then wait for its resource", async () => {
    const before = registered.length;
    const p = new CdcPipeline("wired", {
      connect: { url: outputOf("connect-url", "http://connect.internal:8083") },
      kafkaBootstrap: outputOf("kafka", "kafka.internal:9092"),
      fromWorkers: {
        source: outputOf("source-in-network", { host: "mssql.internal", port: 11433 }),
        target: { host: outputOf("target-in-network", "pg.internal"), port: 15432 },
      },
      sourceEngine: "sqlserver",
      source: { ...db, host: outputOf("source-host", "mssql.example"), port: outputOf("source-port", 21433) },
      target: { ...db, port: 5432, schema: "warehouse", password: outputOf("target-password", "target-pw") },
      tables,
      topicPrefix: "Inventory-DR",
      rebuild: outputOf("restore", "restore-1"),
    });
    const parts = [p.cdc, p.targetSchema, p.sourceConnector, p.sinkConnector, ...(p.backfill ? [p.backfill] : [])];
    await Promise.all(parts.map((r) => valueOf(r.urn)));
    await allRegistered();
    const r = new Map(registered.slice(before).map((x) => [x.name, x]));
    const cluster = { url: "http://connect.internal:8083" };

    expect(r.get("wired-cdc")?.inputs).toMatchObject({ host: "mssql.example", port: 21433 });
    expect(r.get("wired-cdc")?.inputs.connector).toEqual(secret({ cluster, name: "Inventory-DR-source" }));
    expect(r.get("wired-cdc")?.dependsOn).toEqual(
      expect.arrayContaining(["source-host", "source-port", "connect-url"]),
    );
    // A config built from outputs stays a plain value: only the connection's password is secret.
    expect(r.get("wired-source")?.inputs.config).toMatchObject({
      "database.hostname": "mssql.internal",
      "database.port": "11433",
      "schema.history.internal.kafka.bootstrap.servers": "kafka.internal:9092",
    });
    expect(r.get("wired-source")?.inputs).toMatchObject({ cluster: secret(cluster), offsetsResetToken: "restore-1" });
    expect(r.get("wired-source")?.dependsOn).toEqual(
      expect.arrayContaining(["connect-url", "kafka", "source-in-network", "restore", "wired-cdc", "wired-schema"]),
    );
    expect(r.get("wired-sink")?.inputs.config).toMatchObject({
      "connection.url": "jdbc:postgresql://pg.internal:15432/inventory",
    });
    expect(r.get("wired-sink")?.inputs.sensitiveConfig).toEqual(secret({ "connection.password": "target-pw" }));
    expect(r.get("wired-sink")?.dependsOn).toEqual(expect.arrayContaining(["target-in-network", "target-password"]));
    expect(r.get("wired-schema")?.inputs).toMatchObject({ password: secret("target-pw"), rebuildToken: "restore-1" });

    expect(registeredOutputs("cdc-pipeline:index:CdcPipeline", "wired")).toEqual({
      sourceConnectorName: "Inventory-DR-source",
      sinkConnectorName: "Inventory-DR-sink",
      sourceConnectorState: "running",
      sinkConnectorState: "running",
      topics: ["wired-source-topic"],
      deadLetterTopic: "Inventory-DR.dead-letter",
    });
  });

  it("gives the target tables only the target's connection fields and schema", async () => {
    const target = { ...db, port: 5432, schema: "warehouse", engine: "postgres", encrypt: false };
    const r = await build("narrow", "postgres", { target });
    const keys = Object.keys(r.get("narrow-schema")!.inputs).filter((k) => !k.startsWith("__"));
    expect(keys.sort()).toEqual(["database", "host", "password", "port", "schema", "tables", "user"]);
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { recordResources, type Registered, valueOf } from "./mocks";

let registered: Registered[];
let CdcPipeline: typeof import("../../components/cdc-pipeline").CdcPipeline;
beforeAll(async () => {
  registered = await recordResources("unit");
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
  rebuild?: string,
  connectorLogin?: { user: string; password: string },
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
    rebuild,
    connectorLogin,
  });
  await Promise.all([p.cdc, p.targetSchema, p.sourceConnector, p.sinkConnector].map((r) => valueOf(r.urn)));
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

  it("orders the work: connectors after CDC and the target tables, the source also after a rebuild empties them", async () => {
    const r = await build("ordered", "postgres");
    expect(r.get("ordered-source")?.dependsOn).toEqual(expect.arrayContaining(["ordered-cdc", "ordered-schema"]));
    expect(r.get("ordered-sink")?.dependsOn).toContain("ordered-schema");
    expect(r.get("ordered-cdc")?.dependsOn).toEqual([]);
    expect(r.get("ordered-schema")?.dependsOn).toEqual([]);
    expect(r.get("ordered-source")?.inputs.offsetsResetToken).toBeUndefined();
  });

  it("a rebuild token empties the target tables and resets the source's offsets, not the sink's", async () => {
    const r = await build("rebuilt", "postgres", "restore-2026-11-24");
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

  it("without a connector login, the source connector reads as the source's user", async () => {
    const r = await build("admin", "postgres");
    expect(r.get("admin-source")?.inputs.config).toMatchObject({ "database.user": "cdc" });
    expect(r.get("admin-source")?.inputs.sensitiveConfig).toEqual(secret({ "database.password": "pw" }));
    expect(r.get("admin-cdc")?.inputs.replicationUser).toBeUndefined();
  });

  it("with a connector login, the CDC resource creates it and the source connector reads as it", async () => {
    const login = { user: "cdc_connector", password: "connector-pw" };
    const pg = await build("pglogin", "postgres", undefined, login);
    expect(pg.get("pglogin-cdc")?.inputs).toMatchObject({ user: "cdc", replicationUser: "cdc_connector" });
    expect(pg.get("pglogin-cdc")?.inputs.replicationPassword).toEqual(secret("connector-pw"));
    expect(pg.get("pglogin-source")?.inputs.config).toMatchObject({ "database.user": "cdc_connector" });
    expect(pg.get("pglogin-source")?.inputs.sensitiveConfig).toEqual(secret({ "database.password": "connector-pw" }));

    const mssql = await build("mslogin", "sqlserver", undefined, login);
    expect(mssql.get("mslogin-cdc")?.inputs).toMatchObject({ user: "cdc", connectorLogin: "cdc_connector" });
    expect(mssql.get("mslogin-cdc")?.inputs.connectorPassword).toEqual(secret("connector-pw"));
    expect(mssql.get("mslogin-source")?.inputs.config).toMatchObject({ "database.user": "cdc_connector" });
    expect(mssql.get("mslogin-source")?.inputs.sensitiveConfig).toEqual(
      secret({ "database.password": "connector-pw" }),
    );
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { allRegistered, outputOf, recordResources, type Registered, registeredOutputs, valueOf } from "./mocks";

let registered: Registered[];
let preflight: typeof import("../../components/preflight");

beforeAll(async () => {
  // The services as the checks would observe them.
  registered = await recordResources(
    "unit",
    {},
    {},
    {
      "pulumi-nodejs:dynamic/cdc-pipeline:ConnectCluster": () => ({
        version: "4.0.0",
        kafkaClusterId: "cluster-1",
        plugins: ["io.debezium.connector.postgresql.PostgresConnector"],
      }),
      "pulumi-nodejs:dynamic/cdc-pipeline:PostgresServer": (name) => ({ serverVersion: `15.10 (${name})` }),
      "pulumi-nodejs:dynamic/cdc-pipeline:KafkaCluster": () => ({ clusterId: "cluster-1", brokerCount: 3 }),
    },
  );
  preflight = await import("../../components/preflight");
});

const db = { host: "db", port: 5432, database: "d", user: "u", password: "s3cr3t-value" };
const kafka = { bootstrapServers: "kafka:9092", replicas: { count: 1, setBy: "pipeline.replicationFactor" } };

describe("Preflight", () => {
  it("for a SQL Server source requires the SQL Server and JDBC sink plugins and checks only the target", async () => {
    const before = registered.length;
    const p = new preflight.Preflight("sqls", {
      connectUrl: "http://c:8083",
      sourceEngine: "sqlserver",
      source: db,
      target: db,
      kafka,
    });
    await Promise.all([valueOf(p.connect.urn), valueOf(p.targetServer.urn)]);
    const mine = registered.slice(before);
    // Registration order follows provider serialization, which is asynchronous: compare as sets.
    expect(mine.map((r) => `${r.type}/${r.name}`).sort()).toEqual([
      "cdc-pipeline:index:Preflight/sqls",
      "pulumi-nodejs:dynamic/cdc-pipeline:ConnectCluster/sqls-connect",
      "pulumi-nodejs:dynamic/cdc-pipeline:KafkaCluster/sqls-kafka",
      "pulumi-nodejs:dynamic/cdc-pipeline:PostgresServer/sqls-target",
    ]);
    expect(mine.find((r) => r.name === "sqls-connect")?.inputs.requiredPlugins).toEqual([
      "io.debezium.connector.sqlserver.SqlServerConnector",
      "io.debezium.connector.jdbc.JdbcSinkConnector",
    ]);
    expect(p.sourceServer).toBeUndefined();
  });

  it("for a PostgreSQL source requires wal_level=logical on the source and adds extra plugins", async () => {
    const before = registered.length;
    const p = new preflight.Preflight("pg", {
      connectUrl: "http://c:8083",
      sourceEngine: "postgres",
      source: db,
      target: db,
      extraPlugins: ["com.example.Extra"],
      kafka,
    });
    await Promise.all([p.connect, p.sourceServer!, p.targetServer].map((r) => valueOf(r.urn)));
    const byName = new Map(registered.slice(before).map((r) => [r.name, r]));
    expect(byName.get("pg-connect")?.inputs.requiredPlugins).toEqual([
      "io.debezium.connector.postgresql.PostgresConnector",
      "io.debezium.connector.jdbc.JdbcSinkConnector",
      "com.example.Extra",
    ]);
    expect(byName.get("pg-source")?.inputs.requiredSettings).toEqual({ wal_level: "logical" });
    expect(byName.get("pg-target")?.inputs.requiredSettings).toEqual({});
    // The serialized provider travels in the state: it must not have captured the password.
    expect(String(byName.get("pg-target")?.inputs.__provider)).not.toContain("s3cr3t-value");
  });

  it("checks only the connection fields, which may be other resources' outputs, and registers what it observed", async () => {
    const before = registered.length;
    // A database's whole configuration, as a stack holds it: the TLS and engine settings must not reach the checks.
    const source = { ...db, engine: "postgres", encrypt: false, trustServerCertificate: false, connectorUser: "c" };
    const target = { ...db, host: outputOf("target-host", "pg.internal"), schema: "public" };
    const p = new preflight.Preflight("wired", {
      connectUrl: outputOf("connect-url", "http://connect.internal:8083"),
      sourceEngine: "postgres",
      source,
      target,
      kafka: { bootstrapServers: outputOf("kafka-bootstrap", "kafka.internal:9094"), replicas: kafka.replicas },
    });
    await Promise.all([p.connect, p.kafka, p.sourceServer!, p.targetServer].map((r) => valueOf(r.urn)));
    await allRegistered();
    const byName = new Map(registered.slice(before).map((r) => [r.name, r]));
    const connectionKeys = ["database", "host", "password", "port", "requiredSettings", "user"];
    for (const side of ["wired-source", "wired-target"]) {
      const keys = Object.keys(byName.get(side)!.inputs).filter((k) => !k.startsWith("__"));
      expect(keys.sort(), side).toEqual(connectionKeys);
    }
    expect(byName.get("wired-target")?.inputs.host).toBe("pg.internal");
    expect(byName.get("wired-target")?.dependsOn).toContain("target-host");
    expect(byName.get("wired-connect")?.inputs.url).toBe("http://connect.internal:8083");
    expect(byName.get("wired-connect")?.dependsOn).toContain("connect-url");
    expect(byName.get("wired-kafka")?.inputs).toMatchObject({
      bootstrapServers: "kafka.internal:9094",
      replicas: { count: 1, setBy: "pipeline.replicationFactor" },
    });
    expect(byName.get("wired-kafka")?.dependsOn).toContain("kafka-bootstrap");
    expect(registeredOutputs("cdc-pipeline:index:Preflight", "wired")).toEqual({
      connectVersion: "4.0.0",
      kafkaClusterId: "cluster-1",
      connectPlugins: ["io.debezium.connector.postgresql.PostgresConnector"],
      kafkaBrokerCount: 3,
      sourceServerVersion: "15.10 (wired-source)",
      targetServerVersion: "15.10 (wired-target)",
    });
  });
});

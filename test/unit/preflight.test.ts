import { beforeAll, describe, expect, it } from "vitest";
import { recordResources, type Registered, valueOf } from "./mocks";

let registered: Registered[];
let preflight: typeof import("../../components/preflight");

beforeAll(async () => {
  registered = await recordResources("unit");
  preflight = await import("../../components/preflight");
});

const db = { host: "db", port: 5432, database: "d", user: "u", password: "s3cr3t-value" };

describe("Preflight", () => {
  it("for a SQL Server source requires the SQL Server and JDBC sink plugins and checks only the target", async () => {
    const before = registered.length;
    const p = new preflight.Preflight("sqls", {
      connectUrl: "http://c:8083",
      sourceEngine: "sqlserver",
      source: db,
      target: db,
    });
    await Promise.all([valueOf(p.connect.urn), valueOf(p.targetServer.urn)]);
    const mine = registered.slice(before);
    // Registration order follows provider serialization, which is asynchronous: compare as sets.
    expect(mine.map((r) => `${r.type}/${r.name}`).sort()).toEqual([
      "cdc-pipeline:index:Preflight/sqls",
      "pulumi-nodejs:dynamic/cdc-pipeline:ConnectCluster/sqls-connect",
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
});

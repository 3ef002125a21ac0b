// What adopting a hand-made source relies on (lib/debezium-configs ADOPTION_KEYS): the installed Debezium
// plugins store a connector's offsets under source partitions made only of values of those keys, so a
// connector with the same values reads the offsets it takes over. Asked of the plugins' own partition
// providers (test/jvm/DebeziumSourcePartitions.java).
import { describe, expect, it } from "vitest";
import { ADOPTION_KEYS, postgresSourceConfig, sqlServerSourceConfig } from "../../lib/debezium-configs";
import { pluginSourcePartitions } from "../debezium-plugin";

const common = { topicPrefix: "sqlserver", host: "127.0.0.1", port: 9, user: "reader", tables: ["dbo.customers"] };

describe("Debezium source partitions", () => {
  it("SQL Server: one partition per database, of topic.prefix and the database", () => {
    const config = sqlServerSourceConfig({
      ...common,
      database: "warehouse_source",
      kafkaBootstrap: "127.0.0.1:9",
      schemaHistoryTopic: "schema-changes.warehouse",
      signalTable: { schema: "dbo", name: "sig" },
      notificationTopic: "sqlserver.notifications",
    });
    const partitions = pluginSourcePartitions("sqlserver", config);
    expect(partitions).toEqual([{ server: "sqlserver", database: "warehouse_source" }]);
    const adoptionValues = Object.keys(ADOPTION_KEYS.sqlserver).map((key) => config[key]);
    for (const value of Object.values(partitions[0])) expect(adoptionValues).toContain(value);
  }, 120_000);

  it("PostgreSQL: one partition, of topic.prefix", () => {
    const config = postgresSourceConfig({
      ...common,
      database: "warehouse_source",
      publication: "dbz_publication",
      slot: "debezium",
      heartbeatTable: { schema: "dbo", name: "h" },
      signalTable: { schema: "dbo", name: "sig" },
      notificationTopic: "sqlserver.notifications",
    });
    const partitions = pluginSourcePartitions("postgres", config);
    expect(partitions).toEqual([{ server: "sqlserver" }]);
    const adoptionValues = Object.keys(ADOPTION_KEYS.postgres).map((key) => config[key]);
    for (const value of Object.values(partitions[0])) expect(adoptionValues).toContain(value);
  }, 120_000);
});

// What a SQL Server source resumes from once SqlServerCdc moved it on (the cleanup job removed changes it had
// not read): the offsets sqlServerResumePoint writes, loaded by the installed Debezium SQL Server plugin's own
// offset loader (test/jvm/DebeziumOffsets.java), as its task loads them at start. No SQL Server runs here:
// that the connector then streams from there is proven by the live suite
// (test/integration/sqlserver-pipeline-live.test.ts).
import { describe, expect, it } from "vitest";
import { sqlServerResumePoint, sqlServerSourceConfig } from "../../lib/debezium-configs";
import { pluginSourcePartitions, pluginSqlServerOffset } from "../debezium-plugin";

describe("a SQL Server resume point, as the plugin loads it", () => {
  const config = sqlServerSourceConfig({
    topicPrefix: "inventory",
    host: "127.0.0.1",
    port: 9,
    database: "warehouse",
    user: "reader",
    tables: ["dbo.customers"],
    kafkaBootstrap: "127.0.0.1:9",
    schemaHistoryTopic: "inventory.schema-history",
    signalTable: { schema: "dbo", name: "inventory_cdc_signal" },
    notificationTopic: "inventory.notifications",
  });
  const point = sqlServerResumePoint("inventory", "warehouse", "0000002D00000AF80003");

  it("is stored under the connector's own partition", () => {
    expect(point.offsets.map((o) => o.partition)).toEqual(pluginSourcePartitions("sqlserver", config));
  }, 120_000);

  it("resumes streaming at the commit position, with no snapshot to take", () => {
    const loaded = pluginSqlServerOffset(config, point.offsets[0].offset as Record<string, string>);
    expect(loaded).toEqual({
      commit_lsn: "0000002d:00000af8:0003",
      change_lsn: "NULL",
      snapshot: "none",
      snapshot_running: "false",
      snapshot_completed: "false",
    });
    expect(point.token).toBe("warehouse@0000002d00000af80003");
  }, 120_000);
});

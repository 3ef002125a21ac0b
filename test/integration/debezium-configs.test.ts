// The connector configs the project builds, validated by the real Debezium plugins on the harness's worker.
import { describe, expect, it } from "vitest";
import { connectHttp } from "../../lib/connect-rest";
import { validateConfig } from "../../lib/connector-api";
import { sqlServerSourceConfig } from "../../lib/debezium-configs";
import { outdatedKeys } from "../../lib/connector-config";
import { harness } from "../harness";

describe("Debezium SQL Server source config", () => {
  it("passes the real plugin's validation on every field but the connection to a server that is not there", async () => {
    const config = sqlServerSourceConfig({
      topicPrefix: "inventory",
      host: "127.0.0.1",
      port: 9,
      database: "inventory",
      user: "debezium",
      tables: ["dbo.customers", "dbo.orders"],
      kafkaBootstrap: harness.env.CDC_KAFKA_BOOTSTRAP,
      schemaHistoryTopic: "inventory.schema-history",
      signalTable: { schema: "dbo", name: "inventory_cdc_signal" },
      notificationTopic: "inventory.notifications",
      trustServerCertificate: true,
    });
    expect(outdatedKeys(config)).toEqual([]);
    const password = "validation-secret-pw";
    const errors = await validateConfig(
      connectHttp({ url: harness.connectUrl }, 120_000),
      "inventory-source",
      { ...config, "database.password": password },
      [password],
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^database\.hostname: Unable to connect\./);
    expect(errors.join("\n")).not.toContain(password);
  }, 120_000);
});

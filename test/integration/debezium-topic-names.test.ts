// The project's change-topic names (lib/pipeline-names.ts) against the installed Debezium plugins' own
// naming, for every table of every committed stack and for names Debezium has to sanitize.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseStackSettings, SECRET_KEYS } from "../../config";
import { postgresSourceConfig, sqlServerSourceConfig } from "../../lib/debezium-configs";
import { pipelineNames, type NamedSource } from "../../lib/pipeline-names";
import { pluginChangeTopics } from "../debezium-plugin";
import { PROJECT_DIR } from "../harness";
import { committedSettings } from "../unit/stack-consistency";

type Table = { schema: string; name: string };

/** The source connector config the component builds for these settings (the naming keys are what count). */
function sourceConfig(engine: NamedSource["engine"], prefix: string, database: string, tables: Table[]) {
  const common = {
    topicPrefix: prefix,
    host: "127.0.0.1",
    port: 9,
    database,
    user: "reader",
    tables: tables.map((t) => `${t.schema}.${t.name}`),
  };
  return engine === "sqlserver"
    ? sqlServerSourceConfig({
        ...common,
        kafkaBootstrap: "127.0.0.1:9",
        schemaHistoryTopic: `${prefix}.schema-history`,
        signalTable: { schema: "s", name: "sig" },
        notificationTopic: `${prefix}.notifications`,
      })
    : postgresSourceConfig({
        ...common,
        publication: "p",
        slot: "s",
        heartbeatTable: { schema: "s", name: "h" },
        signalTable: { schema: "s", name: "sig" },
        notificationTopic: `${prefix}.notifications`,
      });
}

function expectPluginNaming(engine: NamedSource["engine"], prefix: string, database: string, tables: Table[]) {
  const names = pipelineNames({ topicPrefix: prefix }, { engine, database });
  const ours = tables.map((t) => names.changeTopic(`${t.schema}.${t.name}`));
  expect(ours).toEqual(pluginChangeTopics(engine, sourceConfig(engine, prefix, database, tables), tables));
}

const stacks = readdirSync(PROJECT_DIR)
  .map((file) => file.match(/^Pulumi\.(.+)\.yaml$/)?.[1])
  .filter((stack): stack is string => stack !== undefined);

describe("change topics named as the Debezium plugins name them", () => {
  it.each(stacks)(
    "stack %s: every table's topic",
    (stack) => {
      const settings = parseStackSettings(committedSettings(stack), stack, new Set(SECRET_KEYS));
      const { engine, database } = settings.source;
      expectPluginNaming(engine, settings.pipeline.topicPrefix, database, settings.tables);
    },
    120_000,
  );

  it.each(["sqlserver", "postgres"] as const)(
    "%s: names Debezium must sanitize, and dots in names",
    (engine) => {
      const hostile = [
        { schema: "dbo", name: "order details" },
        { schema: "sales-eu", name: "Ümlaut" },
        { schema: "a.b", name: "c.d" },
        { schema: "x]; DROP TABLE y--", name: "t" },
      ];
      expectPluginNaming(engine, "shop.eu-1", "Inventory_2", hostile);
    },
    120_000,
  );
});

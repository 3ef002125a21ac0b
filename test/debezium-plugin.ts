// Asks the installed Debezium plugins themselves (their classes, on the JVM, against the harness's plugin
// jars) what they compute, for tests that pin the project's derivations to the plugin's truth.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import type { ConnectorConfig } from "../lib/connector-config";
import { harness, PROJECT_DIR } from "./harness";

/** A Java properties line: keys and values escaped, every non-ASCII unit as a unicode escape. */
function propertiesLine(key: string, value: string): string {
  const escape = (text: string) =>
    text
      .replace(/[\\=:#! ]/g, (c) => `\\${c}`)
      .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `${escape(key)}=${escape(value)}`;
}

/** Runs test/jvm/<program>.java (a single-file Java program) on a plugin's jars; its output lines. */
function runOnPlugin(
  program: string,
  plugin: "sqlserver" | "postgres" | "jdbc",
  args: readonly string[],
  lines: readonly string[] = [],
): string[] {
  const classPath = [
    path.join(harness.env.CDC_CONNECT_PLUGINS, `debezium-connector-${plugin}`, "*"),
    path.join(harness.env.CDC_KAFKA_LIBS, "*"),
  ].join(path.delimiter);
  const out = execFileSync("java", ["-cp", classPath, path.join(PROJECT_DIR, `test/jvm/${program}.java`), ...args], {
    input: `${lines.join("\n")}\n`,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
    timeout: 120_000,
  });
  return out.split("\n");
}

const configLines = (config: ConnectorConfig) => Object.entries(config).map(([k, v]) => propertiesLine(k, v));

/**
 * The change topic of each table ({schema, name}) as the plugin of `engine` names it for the connector
 * config `config` (test/jvm/DebeziumTopicNames.java).
 */
export function pluginChangeTopics(
  engine: "sqlserver" | "postgres",
  config: ConnectorConfig,
  tables: readonly { schema: string; name: string }[],
): string[] {
  const lines = [
    ...configLines(config),
    ...tables.flatMap((t, i) => [
      propertiesLine(`topic-names.table.${i}.schema`, t.schema),
      propertiesLine(`topic-names.table.${i}.name`, t.name),
    ]),
  ];
  return runOnPlugin("DebeziumTopicNames", engine, [engine], lines).filter((line) => line !== "");
}

/**
 * The source partitions the plugin of `engine` stores the offsets of a connector with config `config` under
 * (test/jvm/DebeziumSourcePartitions.java), each as its keys and values.
 */
export function pluginSourcePartitions(
  engine: "sqlserver" | "postgres",
  config: ConnectorConfig,
): Record<string, string>[] {
  const partitions: Record<string, string>[] = [];
  let current: Record<string, string> = {};
  for (const line of runOnPlugin("DebeziumSourcePartitions", engine, [engine], configLines(config))) {
    if (line === "") {
      if (Object.keys(current).length > 0) partitions.push(current);
      current = {};
    } else {
      current[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return partitions;
}

/** The JDBC sink's settings that take one of a fixed set of values, as its own fields declare them. */
export function pluginSinkEnumSettings(): Record<string, string[]> {
  const lines = runOnPlugin("DebeziumFieldValues", "jdbc", ["io.debezium.connector.jdbc.JdbcSinkConnectorConfig"]);
  return Object.fromEntries(
    lines
      .filter((line) => line !== "")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1).split(",")]),
  );
}

/**
 * What the SQL Server plugin's own offset loader makes of an offset (its string values) for a connector with
 * config `config` (test/jvm/DebeziumOffsets.java): the position it resumes from, and its snapshot state.
 */
export function pluginSqlServerOffset(config: ConnectorConfig, offset: Record<string, string>): Record<string, string> {
  const lines = [...configLines(config), ...Object.entries(offset).map(([k, v]) => propertiesLine(`offset.${k}`, v))];
  return Object.fromEntries(
    runOnPlugin("DebeziumOffsets", "sqlserver", [], lines)
      .filter((line) => line !== "")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

// Connector configuration semantics, pure: how values are normalised, which live keys are the server's,
// what counts as a change, how a secret is compared without being stored, which keys Debezium renamed.
import { randomBytes, scryptSync } from "node:crypto";

export type ConfigValue = string | number | boolean;
export type ConnectorConfig = Record<string, string>;

/** Values compared and sent as strings: numbers and booleans are accepted and stringified. */
export function stringifyConfig(config: Record<string, ConfigValue>): ConnectorConfig {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, String(value)]));
}

/** Keys the worker adds to a connector's config: never part of a diff. */
export function isServerKey(key: string): boolean {
  return key === "name" || key.startsWith("__internal.");
}

/** How a worker shows a value it will not reveal (ConfigProvider references and masked passwords). */
export function isMasked(value: string): boolean {
  return value === "[hidden]" || /^\$\{[^}]+\}$/.test(value);
}

/** The live config as the resource records it: server keys, ignored keys and sensitive keys left out. */
export function visibleConfig(
  live: ConnectorConfig,
  sensitiveKeys: readonly string[],
  ignoreKeys: readonly string[],
): ConnectorConfig {
  return Object.fromEntries(
    Object.entries(live).filter(
      ([key]) => !isServerKey(key) && !sensitiveKeys.includes(key) && !ignoreKeys.includes(key),
    ),
  );
}

/** How changedKeys treats a value the worker masks. */
export interface ChangedKeysOptions {
  /**
   * false (a diff against what was recorded): a masked recorded value is unknown, so it is not reported.
   * true (deciding whether writing a config changes what the worker holds): "[hidden]" may hide any value,
   * so it counts as a change; a ConfigProvider reference is the text the worker holds, compared as such.
   */
  readonly maskedIsChange?: boolean;
}

/**
 * The keys whose values differ between a recorded (or live) config and a desired one: added, removed and
 * changed keys, sorted. Ignored keys and server keys never count; a masked recorded value as `options` says.
 */
export function changedKeys(
  recorded: ConnectorConfig,
  desired: ConnectorConfig,
  ignoreKeys: readonly string[] = [],
  options: ChangedKeysOptions = {},
): string[] {
  const keys = new Set([...Object.keys(recorded), ...Object.keys(desired)]);
  return [...keys]
    .filter((key) => !isServerKey(key) && !ignoreKeys.includes(key))
    .filter((key) => {
      const was = recorded[key];
      if (options.maskedIsChange) return was === "[hidden]" || was !== desired[key];
      return !(was !== undefined && isMasked(was)) && was !== desired[key];
    })
    .sort();
}

/** A random salt for hashing a resource's secrets. */
export function newSalt(): string {
  return randomBytes(16).toString("hex");
}

/**
 * A salted, deliberately slow hash (scrypt) of the secret values, so a change of secret is detected while
 * the state holds neither the secret nor a hash cheap enough to brute-force.
 */
export function hashSecrets(secrets: ConnectorConfig, salt: string): string {
  const canonical = JSON.stringify(Object.entries(secrets).sort(([a], [b]) => a.localeCompare(b)));
  return scryptSync(canonical, salt, 32, { N: 1 << 14 }).toString("hex");
}

/** Debezium 1.x keys and the key that replaces each from 2.0 on; `database.dbname` only for SQL Server. */
const RENAMED_KEYS: Record<string, string> = {
  "database.server.name": "topic.prefix",
  "database.history": "schema.history.internal",
  "table.whitelist": "table.include.list",
  "table.blacklist": "table.exclude.list",
  "database.whitelist": "database.include.list",
  "database.blacklist": "database.exclude.list",
  "schema.whitelist": "schema.include.list",
  "schema.blacklist": "schema.exclude.list",
  "column.whitelist": "column.include.list",
  "column.blacklist": "column.exclude.list",
};

/** Keys of the Confluent JDBC sink that the Debezium JDBC sink names differently. */
const JDBC_SINK_KEYS: Record<string, string> = {
  "connection.user": "connection.username",
  "pk.mode": "primary.key.mode",
  "pk.fields": "primary.key.fields",
  "auto.create": "schema.evolution",
  "auto.evolve": "schema.evolution",
};

/** One message per outdated key: the key, and the key to use instead. */
export function outdatedKeys(config: ConnectorConfig): string[] {
  const cls = config["connector.class"] ?? "";
  const problems: string[] = [];
  for (const key of Object.keys(config)) {
    let replacement = RENAMED_KEYS[key];
    if (!replacement && key.startsWith("database.history.")) {
      replacement = `schema.history.internal.${key.slice("database.history.".length)}`;
    }
    if (!replacement && key === "database.dbname" && cls.endsWith("SqlServerConnector")) {
      replacement = "database.names";
    }
    if (!replacement && cls === "io.debezium.connector.jdbc.JdbcSinkConnector") replacement = JDBC_SINK_KEYS[key];
    if (replacement) problems.push(`'${key}' is a Debezium 1.x (or Confluent) key: use '${replacement}'`);
  }
  return problems;
}

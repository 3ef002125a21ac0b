import { describe, expect, it } from "vitest";
import {
  changedKeys,
  hashSecrets,
  newSalt,
  outdatedKeys,
  stringifyConfig,
  visibleConfig,
} from "../../lib/connector-config";

describe("connector config semantics", () => {
  it("stringifies numbers and booleans, so 1 and '1' are the same value", () => {
    const config = stringifyConfig({ "tasks.max": 1, "delete.enabled": true, topics: "a" });
    expect(config).toEqual({ "tasks.max": "1", "delete.enabled": "true", topics: "a" });
    expect(changedKeys({ "tasks.max": "1" }, stringifyConfig({ "tasks.max": 1 }))).toEqual([]);
  });

  it("reports added, removed and changed keys, sorted", () => {
    expect(changedKeys({ a: "1", b: "2", c: "3" }, { a: "1", b: "20", d: "4" })).toEqual(["b", "c", "d"]);
  });

  it("ignores name, __internal.* keys and the ignore list", () => {
    const live = { name: "x", "__internal.version": "7", a: "1", managed: "by-someone-else" };
    expect(changedKeys(live, { a: "1" }, ["managed"])).toEqual([]);
  });

  it("treats a masked recorded value as unknown, not as a change", () => {
    expect(changedKeys({ a: "[hidden]", b: "${file:/s.properties:pw}" }, { a: "secret", b: "other" })).toEqual([]);
    expect(changedKeys({ a: "1" }, { a: "[hidden]" })).toEqual(["a"]);
  });

  it("deciding whether a write changes the worker's config, counts a '[hidden]' value as a change", () => {
    const live = { "connector.class": "C", "tasks.max": "1", name: "sink", "__internal.x": "1" };
    const writes = (desired: Record<string, string>, from: Record<string, string> = live) =>
      changedKeys(from, desired, [], { maskedIsChange: true });
    expect(writes({ "connector.class": "C", "tasks.max": "1" })).toEqual([]);
    expect(writes({ "connector.class": "C", "tasks.max": "2" })).toEqual(["tasks.max"]);
    expect(writes({ "connector.class": "C", "tasks.max": "1", extra: "x" })).toEqual(["extra"]);
    expect(writes({ "connector.class": "C" })).toEqual(["tasks.max"]);
    expect(writes({ "connector.class": "C", "tasks.max": "1", pw: "[hidden]" }, { ...live, pw: "[hidden]" })).toEqual([
      "pw",
    ]);
    // A ConfigProvider reference is what the worker holds: the same one again writes nothing new.
    expect(writes({ pw: "${file:/s:pw}" }, { pw: "${file:/s:pw}" })).toEqual([]);
    expect(writes({ pw: "other" }, { pw: "${file:/s:pw}" })).toEqual(["pw"]);
  });

  it("records the live config without server, sensitive and ignored keys", () => {
    const live = { name: "x", "__internal.k": "v", a: "1", "database.password": "pw", skip: "s" };
    expect(visibleConfig(live, ["database.password"], ["skip"])).toEqual({ a: "1" });
  });

  it("hashes secrets with a salt: equal for equal secrets, different for a changed secret or salt", () => {
    const salt = newSalt();
    expect(salt).toMatch(/^[0-9a-f]{32}$/);
    const hash = hashSecrets({ "database.password": "pw", other: "x" }, salt);
    expect(hashSecrets({ other: "x", "database.password": "pw" }, salt)).toBe(hash);
    expect(hashSecrets({ "database.password": "pw2", other: "x" }, salt)).not.toBe(hash);
    expect(hashSecrets({ "database.password": "pw", other: "x" }, newSalt())).not.toBe(hash);
    expect(hash).not.toContain("pw");
  });

  it("names the replacement of each Debezium 1.x key", () => {
    const problems = outdatedKeys({
      "connector.class": "io.debezium.connector.sqlserver.SqlServerConnector",
      "database.server.name": "s",
      "database.dbname": "d",
      "database.history.kafka.bootstrap.servers": "k:9092",
      "table.whitelist": "dbo.t",
      "topic.prefix": "fine",
    });
    expect(problems).toEqual([
      "'database.server.name' is a Debezium 1.x (or Confluent) key: use 'topic.prefix'",
      "'database.dbname' is a Debezium 1.x (or Confluent) key: use 'database.names'",
      "'database.history.kafka.bootstrap.servers' is a Debezium 1.x (or Confluent) key: use 'schema.history.internal.kafka.bootstrap.servers'",
      "'table.whitelist' is a Debezium 1.x (or Confluent) key: use 'table.include.list'",
    ]);
  });

  it("keeps database.dbname for PostgreSQL, where it is still the key, and flags Confluent JDBC sink keys", () => {
    expect(
      outdatedKeys({ "connector.class": "io.debezium.connector.postgresql.PostgresConnector", "database.dbname": "d" }),
    ).toEqual([]);
    expect(
      outdatedKeys({ "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector", "pk.mode": "record_key" }),
    ).toEqual(["'pk.mode' is a Debezium 1.x (or Confluent) key: use 'primary.key.mode'"]);
  });
});

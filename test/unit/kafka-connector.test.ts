// The KafkaConnector provider's diff, input checks and state migration, which need no worker.
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { hashSecrets } from "../../lib/connector-config";
import { addClusterHash, clusterCredentialsHash, connectorDifferences } from "../../lib/connector-state";
import {
  kafkaConnectorProvider as provider,
  type KafkaConnectorInputs,
  type KafkaConnectorState,
} from "../../providers/kafka-connector";
import { RECORDED_SALT as salt, recordedConnector } from "../recorded-connector";

const news: KafkaConnectorInputs = {
  cluster: { url: "http://connect:8083" },
  name: "sink",
  config: { "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector", "tasks.max": "1" },
  sensitiveConfig: { "connection.password": "pw" },
  state: "running",
  readyTimeoutSeconds: 300,
  restartFailedTasks: true,
  offsetsPolicy: "keep",
  ignoreKeys: [],
  validate: true,
};
const recorded = recordedConnector(news);
/** A worker URL on which nothing listens (the discard port): any call to it fails the test. */
const REFUSING_URL = "http://127.0.0.1:9";

const diff = (olds: Partial<KafkaConnectorState>, inputs: Partial<KafkaConnectorInputs> = {}) =>
  provider.diff("sink", { ...recorded, ...olds }, { ...news, ...inputs });

describe("KafkaConnector diff", () => {
  it("sees no change when the recorded connector is the desired one", async () => {
    expect(await diff({})).toEqual({ changes: false, replaces: [] });
  });

  it("sees a changed, an added and a removed key, but not a server key or an ignored key", async () => {
    expect((await diff({ config: { ...news.config, "tasks.max": "2" } })).changes).toBe(true);
    expect((await diff({ config: { ...news.config, extra: "x" } })).changes).toBe(true);
    expect((await diff({ config: { "connector.class": news.config["connector.class"] } })).changes).toBe(true);
    expect((await diff({ config: { ...news.config, name: "sink", "__internal.v": "1" } })).changes).toBe(false);
    expect((await diff({ config: { ...news.config, extra: "x" } }, { ignoreKeys: ["extra"] })).changes).toBe(true);
    expect(
      (await diff({ config: { ...news.config, extra: "x" }, ignoreKeys: ["extra"] }, { ignoreKeys: ["extra"] }))
        .changes,
    ).toBe(false);
  });

  it("sees a changed secret through its hash, and a secret key added or removed", async () => {
    expect((await diff({}, { sensitiveConfig: { "connection.password": "new" } })).changes).toBe(true);
    expect((await diff({ sensitiveHash: hashSecrets({ "connection.password": "by-hand" }, salt) })).changes).toBe(true);
    expect((await diff({}, { sensitiveConfig: {} })).changes).toBe(true);
  });

  it("sees a state changed by hand and failed tasks", async () => {
    expect((await diff({ state: "paused" })).changes).toBe(true);
    expect((await diff({ tasks: [{ id: 0, state: "FAILED", workerId: "w" }] })).changes).toBe(true);
    expect((await diff({}, { state: "stopped" })).changes).toBe(true);
  });

  it("replaces only on a new name or another cluster", async () => {
    expect(await diff({}, { name: "renamed" })).toEqual({ changes: true, replaces: ["name"] });
    expect(await diff({}, { cluster: { url: "http://dr-connect:8083" } })).toEqual({
      changes: true,
      replaces: ["cluster"],
    });
  });

  it("sees a rotated credential through the cluster's hash, in place, and the same credential as no change", async () => {
    const url = news.cluster.url;
    const secured = recordedConnector({ ...news, cluster: { url, token: "token-1", caCert: "CA-1" } });
    expect(secured.clusterHash).toMatch(/^[0-9a-f]{64}$/);
    expect(secured.clusterHash).not.toContain("token-1");
    const rotate = (cluster: KafkaConnectorInputs["cluster"]) => provider.diff("sink", secured, { ...news, cluster });
    expect(await rotate({ url, token: "token-1", caCert: "CA-1" })).toEqual({ changes: false, replaces: [] });
    for (const cluster of [
      { url, token: "token-2", caCert: "CA-1" },
      { url, token: "token-1", caCert: "CA-2" },
      { url, token: "token-1", caCert: "CA-1", headers: { "X-Api-Key": "k" } },
      { url, username: "admin", password: "pw", token: "token-1", caCert: "CA-1" },
      { url },
    ]) {
      expect(await rotate(cluster), JSON.stringify(cluster)).toEqual({ changes: true, replaces: [] });
    }
    // Only the credentials changed: nothing to write to the connector itself.
    const rotated = connectorDifferences(secured, { ...news, cluster: { url, token: "token-2", caCert: "CA-1" } });
    expect(rotated).toEqual({ replaces: [], connector: false, credentials: true });
    expect((await diff({}, { cluster: { url, password: "pw", username: "u" } })).changes).toBe(true);
  });

  it("hashes a header like a credential field, and a bare URL not at all", () => {
    const url = "http://c:8083";
    expect(clusterCredentialsHash({ url }, salt)).toBe("");
    expect(clusterCredentialsHash({ url, headers: { "X-Key": "a" } }, salt)).not.toBe(
      clusterCredentialsHash({ url, headers: { "X-Key": "b" } }, salt),
    );
    expect(clusterCredentialsHash({ url, token: "t" }, salt)).not.toBe(
      clusterCredentialsHash({ url, token: "t" }, "ff"),
    );
  });
});

/** check without a worker: validation off, or a cluster that refuses connections. */
const check = (inputs: Record<string, unknown>, olds: Record<string, unknown> = {}) =>
  provider.check(olds as KafkaConnectorInputs, { ...news, validate: false, ...inputs });

describe("KafkaConnector input checks", () => {
  it("fills in the defaults and stringifies numbers and booleans in config", async () => {
    const result = await check({
      config: { ...news.config, "tasks.max": 1, "delete.enabled": true },
      sensitiveConfig: undefined,
      state: undefined,
      readyTimeoutSeconds: undefined,
      restartFailedTasks: undefined,
      offsetsPolicy: undefined,
      ignoreKeys: undefined,
      validate: undefined,
      cluster: { url: REFUSING_URL },
    });
    expect(result).toEqual({
      inputs: {
        ...news,
        cluster: { url: REFUSING_URL },
        config: { ...news.config, "delete.enabled": "true" },
        sensitiveConfig: {},
      },
      failures: [],
    });
  });

  it("names each bad field once, saying what is allowed", async () => {
    const { failures } = await check({
      name: "a/b",
      cluster: { url: "connect:8083" },
      config: { topics: "x", "database.server.name": "s", nested: {} },
      sensitiveConfig: { pw: 1 },
      state: "sleeping",
      readyTimeoutSeconds: 0,
      restartFailedTasks: "yes",
      offsetsPolicy: "forget",
      ignoreKeys: "a",
      validate: 1,
      offsetsResetToken: 7,
    });
    expect(Object.fromEntries((failures ?? []).map((f) => [f.property, f.reason]))).toEqual({
      name: "must not contain control characters, '/' or '\\'",
      cluster: "cluster.url: must be an http(s) URL of a Kafka Connect worker, got 'connect:8083'",
      config: "config.nested: must be a string, number or boolean",
      sensitiveConfig: "sensitiveConfig.pw: must be a string",
      state: "must be one of running, paused, stopped, got 'sleeping'",
      readyTimeoutSeconds: "must be a number of seconds from 1 to 3600, got '0'",
      restartFailedTasks: "must be true or false",
      offsetsPolicy: "must be one of keep, reset, got 'forget'",
      ignoreKeys: "must be a list of config keys",
      validate: "must be true or false",
      offsetsResetToken: "must be a string",
    });
  });

  it("requires connector.class, names outdated keys, and refuses a key in both config and sensitiveConfig", async () => {
    const { failures } = await check({
      name: " spaced ",
      config: { topics: "x", "database.server.name": "s", "connection.password": "x" },
      readyTimeoutSeconds: 3601,
    });
    expect(failures).toEqual([
      { property: "name", reason: "must be 1 to 249 characters without leading or trailing blanks" },
      {
        property: "config",
        reason:
          "'connector.class' is required; 'database.server.name' is a Debezium 1.x (or Confluent) key: use 'topic.prefix'",
      },
      { property: "readyTimeoutSeconds", reason: "must be a number of seconds from 1 to 3600, got '3601'" },
      { property: "sensitiveConfig", reason: "keys in both config and sensitiveConfig: connection.password" },
    ]);
  });

  it("refuses a cluster key it does not know, so a misspelt credential is not silently dropped", async () => {
    const { failures } = await check({ cluster: { url: news.cluster.url, tokn: "t" } });
    expect(failures).toEqual([
      {
        property: "cluster",
        reason:
          "unknown key tokn: a connection has url, username/password, token, caCert, clientCert/clientKey and headers",
      },
    ]);
  });

  it("skips values still unknown at preview, and neither validates nor names an offsets source until known", async () => {
    const olds = { ...news, name: "old-sink" };
    const unknownName = await check({ name: unknownValue, validate: true, state: "sleeping" }, olds);
    expect(unknownName.failures).toEqual([
      { property: "state", reason: "must be one of running, paused, stopped, got 'sleeping'" },
    ]);
    const pending = await check({ name: unknownValue, validate: true }, olds);
    expect(pending.failures).toEqual([]);
    expect(pending.inputs).not.toHaveProperty("offsetsFrom");
    const unknownCluster = await check({ cluster: unknownValue, config: { ...news.config, topics: unknownValue } });
    expect(unknownCluster.failures).toEqual([]);
    // The defaults are there for diff even while the inputs are not parsed yet.
    expect(unknownCluster.inputs).toMatchObject({ cluster: unknownValue, sensitiveConfig: news.sensitiveConfig });
    const unknownUrl = await check({ cluster: { url: unknownValue }, sensitiveConfig: undefined, state: undefined });
    expect(unknownUrl).toMatchObject({ failures: [], inputs: { sensitiveConfig: {}, state: "running" } });
  });

  it("names the connector to take offsets over from on a rename or a move with offsetsPolicy keep", async () => {
    const olds = { ...news, name: "old-sink", cluster: { url: "http://old-connect:8083" } };
    expect((await check({}, olds)).inputs?.offsetsFrom).toEqual({ url: "http://old-connect:8083", name: "old-sink" });
    expect((await check({}, { ...olds, name: "sink" })).inputs?.offsetsFrom).toEqual({
      url: "http://old-connect:8083",
      name: "sink",
    });
    expect((await check({ offsetsPolicy: "reset" }, olds)).inputs).not.toHaveProperty("offsetsFrom");
    expect((await check({}, news)).inputs).not.toHaveProperty("offsetsFrom");
    expect((await check({})).inputs).not.toHaveProperty("offsetsFrom");
    // On first create, a hand-made connector to adopt on the same cluster; never once the resource exists.
    const adoptFrom = { name: "postgres-sink-connector", sameKeys: {} };
    expect((await check({ adoptFrom })).inputs?.offsetsFrom).toEqual({
      url: "http://connect:8083",
      name: "postgres-sink-connector",
      adopted: true,
    });
    expect((await check({ adoptFrom }, news)).inputs).not.toHaveProperty("offsetsFrom");
    expect((await check({ adoptFrom: { name: "" } })).failures).toEqual([
      {
        property: "adoptFrom",
        reason: expect.stringContaining("adoptFrom.name: must be 1 to 249 characters") as string,
      },
    ]);
    // A stale offsetsFrom among the inputs is not carried on.
    expect((await check({ offsetsFrom: { url: "x", name: "y" } }, news)).inputs).not.toHaveProperty("offsetsFrom");
  });
});

describe("KafkaConnector state version 1 (as de520ab wrote it)", () => {
  interface ExportedResource {
    urn: string;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
  }
  const exported = JSON.parse(readFileSync(path.join(__dirname, "../fixtures/state-v1-local.json"), "utf8")) as {
    deployment: { resources: ExportedResource[] };
  };
  const sink = exported.deployment.resources.find((r) => r.urn.endsWith("KafkaConnector::pipeline-sink"))!;
  const password = "target-password";
  // The export holds the secrets as ciphertexts; the provider gets them decrypted. The local stack's cluster
  // is a bare URL, here one that refuses connections, so any call to the worker would fail the test.
  const url = REFUSING_URL;
  const v1: Record<string, unknown> = {
    ...sink.outputs,
    cluster: { url },
    url,
    sensitiveHash: hashSecrets({ "connection.password": password }, sink.outputs.salt as string),
  };
  const { __provider: _code, ...declared } = sink.inputs;
  const sameInputs = {
    ...declared,
    cluster: { url },
    sensitiveConfig: { "connection.password": password },
  } as unknown as KafkaConnectorInputs;

  it("has the shape this test migrates: no providerVersion, no clusterHash", () => {
    expect(Object.keys(sink.outputs).sort()).toEqual([
      "__provider",
      "cluster",
      "config",
      "ignoreKeys",
      "name",
      "offsetsPolicy",
      "readyTimeoutSeconds",
      "restartFailedTasks",
      "salt",
      "sensitiveHash",
      "sensitiveKeys",
      "state",
      "tasks",
      "topics",
      "url",
      "validate",
      "workerId",
      "workerVersion",
    ]);
  });

  it("migrates to version 2 by hashing the credentials the state holds", () => {
    const salted = v1.salt as string;
    expect(addClusterHash(v1)).toEqual({ ...v1, clusterHash: "" });
    const secured = addClusterHash({ ...v1, cluster: { url, token: "t-1" } });
    expect(secured.clusterHash).toBe(clusterCredentialsHash({ url, token: "t-1" }, salted));
    const rotated = connectorDifferences(secured as unknown as KafkaConnectorState, {
      ...sameInputs,
      cluster: { url, token: "t-2" },
    });
    expect(rotated).toEqual({ replaces: [], connector: false, credentials: true });
  });

  it("is no change against the same inputs: the first up rewrites the state without calling the worker", async () => {
    const { outs } = await provider.update("local-sink", v1 as unknown as KafkaConnectorState, sameInputs);
    const { __provider: _old, ...kept } = v1;
    expect(outs).toEqual({ ...kept, clusterHash: "", providerVersion: 2 });
  });

  it("with a rotated credential, diff sees a change in place", async () => {
    const secured = { ...v1, cluster: { url, token: "t-1" } } as unknown as KafkaConnectorState;
    expect(await provider.diff("local-sink", secured, { ...sameInputs, cluster: { url, token: "t-2" } })).toEqual({
      changes: true,
      replaces: [],
    });
  });
});

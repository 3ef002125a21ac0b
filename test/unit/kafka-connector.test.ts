// The KafkaConnector provider's diff and input checks, which need no worker.
import { describe, expect, it } from "vitest";
import { hashSecrets } from "../../lib/connector-config";
import {
  inputFailures,
  kafkaConnectorProvider as provider,
  type KafkaConnectorInputs,
  type KafkaConnectorState,
} from "../../providers/kafka-connector";

const salt = "00112233445566778899aabbccddeeff";
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
const { sensitiveConfig: _s, ...settings } = news;
const recorded: KafkaConnectorState = {
  ...settings,
  url: news.cluster.url,
  sensitiveKeys: ["connection.password"],
  sensitiveHash: hashSecrets(news.sensitiveConfig, salt),
  salt,
  state: "running",
  tasks: [{ id: 0, state: "RUNNING", workerId: "w:8083" }],
  workerId: "w:8083",
  workerVersion: "4.3.1",
  topics: [],
};

const diff = (olds: Partial<KafkaConnectorState>, inputs: Partial<KafkaConnectorInputs> = {}) =>
  provider.diff!("sink", { ...recorded, ...olds }, { ...news, ...inputs });

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
    expect((await diff({}, { cluster: { url: news.cluster.url, token: "t" } })).replaces).toEqual([]);
  });
});

describe("KafkaConnector input checks", () => {
  it("accepts the defaults and numbers or booleans in config", () => {
    expect(inputFailures({ ...news, config: { ...news.config, "tasks.max": 1, "delete.enabled": true } })).toEqual([]);
  });

  it("names each bad field", () => {
    const failures = inputFailures({
      ...news,
      name: "a/b",
      config: { topics: "x" },
      sensitiveConfig: { pw: 1 },
      restartFailedTasks: "yes",
      ignoreKeys: "a",
      validate: 1,
    });
    expect(failures.map((f) => f.property)).toEqual([
      "name",
      "config",
      "sensitiveConfig",
      "restartFailedTasks",
      "ignoreKeys",
      "validate",
    ]);
    expect(failures[1].reason).toBe("'connector.class' is required");
  });
});

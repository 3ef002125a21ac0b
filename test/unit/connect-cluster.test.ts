// The ConnectCluster provider's input checks and diff, which need no worker.
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import { missingPlugins } from "../../lib/worker-facts";
import {
  connectClusterProvider as provider,
  type ConnectClusterInputs,
  type ConnectClusterState,
} from "../../providers/connect-cluster";

const SINK = "io.debezium.connector.jdbc.JdbcSinkConnector";
const check = (news: Record<string, unknown>) =>
  provider.check({} as ConnectClusterInputs, news as unknown as ConnectClusterInputs);

const observed: ConnectClusterState & { providerVersion: number } = {
  url: "http://connect:8083",
  requiredPlugins: [SINK],
  version: "4.3.1",
  commit: "26b251a451ce941d",
  kafkaClusterId: "0n6RSEnWR1S-hI5ubyOidw",
  plugins: [`${SINK}@3.6.0.Final`, "org.apache.kafka.connect.file.FileStreamSinkConnector@4.3.1"],
  providerVersion: 1,
};

describe("ConnectCluster input checks", () => {
  it("accepts a worker URL and defaults the required plugins to none", async () => {
    expect(await check({ url: "https://connect:8083" })).toEqual({
      inputs: { url: "https://connect:8083", requiredPlugins: [] },
      failures: [],
    });
  });

  it("names each bad property once, saying what is allowed", async () => {
    expect((await check({ url: "connect:8083", requiredPlugins: [SINK, ""] })).failures).toEqual([
      { property: "url", reason: "must be an http(s) URL of a Kafka Connect worker, got 'connect:8083'" },
      { property: "requiredPlugins", reason: "requiredPlugins[1]: must be a connector class name" },
    ]);
    expect((await check({ requiredPlugins: SINK })).failures).toEqual([
      { property: "url", reason: "must be an http(s) URL of a Kafka Connect worker, got 'undefined'" },
      { property: "requiredPlugins", reason: "must be a list of connector class names" },
    ]);
  });

  it("skips a URL still unknown at preview", async () => {
    expect((await check({ url: unknownValue, requiredPlugins: [SINK] })).failures).toEqual([]);
  });
});

describe("ConnectCluster diff", () => {
  const inputs: ConnectClusterInputs = { url: observed.url, requiredPlugins: [SINK] };

  it("sees no change on the cluster as observed, whatever the order of the required plugins", async () => {
    expect(await provider.diff("c", observed, inputs)).toEqual({ changes: false, replaces: [] });
    const FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector";
    const both = { ...observed, requiredPlugins: [FILE_SINK, SINK] };
    expect(await provider.diff("c", both, { ...inputs, requiredPlugins: [SINK, FILE_SINK] })).toEqual({
      changes: false,
      replaces: [],
    });
  });

  it("replaces on another URL, updates in place on other required plugins or one gone from the worker", async () => {
    expect(await provider.diff("c", observed, { ...inputs, url: "http://dr:8083" })).toEqual({
      changes: true,
      replaces: ["url"],
    });
    expect((await provider.diff("c", observed, { ...inputs, requiredPlugins: [] })).changes).toBe(true);
    const removed = { ...observed, plugins: observed.plugins.slice(1) };
    expect(missingPlugins(removed, [SINK])).toEqual([SINK]);
    expect((await provider.diff("c", removed, inputs)).changes).toBe(true);
  });
});

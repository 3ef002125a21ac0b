// The ConnectCluster provider's methods against the harness's real Kafka Connect worker.
import { describe, expect, it } from "vitest";
import { connectClusterProvider as provider, type ConnectClusterInputs } from "../../providers/connect-cluster";
import { CLOSED_PORT, harness } from "../harness";

const SINK = "io.debezium.connector.jdbc.JdbcSinkConnector";
const inputs: ConnectClusterInputs = { url: harness.connectUrl, requiredPlugins: [SINK] };

describe("ConnectCluster provider", () => {
  it("create reports the worker version, the Kafka cluster id and the Debezium plugins", async () => {
    const { id, outs } = await provider.create(inputs);
    expect(outs?.version).toBe("4.3.1");
    expect(outs?.kafkaClusterId).toMatch(/^[\w-]{22}$/);
    expect(id).toBe(`${harness.connectUrl}#${outs?.kafkaClusterId}`);
    expect(outs?.plugins).toEqual(
      expect.arrayContaining([
        `${SINK}@3.6.0.Final`,
        "io.debezium.connector.sqlserver.SqlServerConnector@3.6.1.Final",
        "io.debezium.connector.postgresql.PostgresConnector@3.6.1.Final",
      ]),
    );
  });

  it("create fails naming the missing plugin and what is installed", async () => {
    await expect(provider.create({ ...inputs, requiredPlugins: [SINK, "com.example.Missing"] })).rejects.toThrow(
      /lacks the plugins com\.example\.Missing; installed: .*JdbcSinkConnector/,
    );
  });

  it("create against a closed port fails naming the URL", async () => {
    const url = `http://127.0.0.1:${CLOSED_PORT}`;
    await expect(provider.create({ ...inputs, url })).rejects.toThrow(`Kafka Connect at ${url}: ECONNREFUSED`);
  });

  it("read returns the live cluster; diff sees no change until a required plugin is gone", async () => {
    const { id, outs } = await provider.create(inputs);
    const read = await provider.read(id, outs);
    expect(read.props).toEqual(outs);
    expect((await provider.diff(id, read.props!, inputs)).changes).toBe(false);
    // As refresh would record it after the plugin was removed from the worker:
    const drifted = { ...read.props!, plugins: read.props!.plugins.filter((p) => !p.startsWith(SINK)) };
    expect((await provider.diff(id, drifted, inputs)).changes).toBe(true);
  });

  it("diff replaces on a new URL and updates in place on new required plugins", async () => {
    const { id, outs } = await provider.create(inputs);
    expect(await provider.diff(id, outs!, { ...inputs, url: "http://other:8083" })).toMatchObject({
      changes: true,
      replaces: ["url"],
    });
    expect(await provider.diff(id, outs!, { ...inputs, requiredPlugins: [] })).toMatchObject({
      changes: true,
      replaces: [],
    });
  });

  it("check names the invalid property; update re-checks; delete changes nothing", async () => {
    const checked = await provider.check({} as ConnectClusterInputs, { url: "connect:8083" } as ConnectClusterInputs);
    expect(checked.failures).toEqual([expect.objectContaining({ property: "url" })]);
    const { id, outs } = await provider.create(inputs);
    await expect(provider.update(id, outs!, { ...inputs, requiredPlugins: ["com.example.Missing"] })).rejects.toThrow(
      /com\.example\.Missing/,
    );
    await provider.delete(id, outs!);
    expect((await provider.create(inputs)).outs?.version).toBe("4.3.1");
  });
});

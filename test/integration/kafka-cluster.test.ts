// The KafkaCluster provider against the harness's real Kafka broker: its id and broker count as a Kafka
// client's metadata request reads them, and a replication factor above its brokers refused at check (so at
// preview), naming the stack setting.
import axios from "axios";
import { describe, expect, it } from "vitest";
import { kafkaClusterProvider as provider, type KafkaClusterInputs } from "../../providers/kafka-cluster";
import { CLOSED_PORT, harness } from "../harness";

const bootstrapServers = harness.env.CDC_KAFKA_BOOTSTRAP;
const inputs = (count: number, servers = bootstrapServers): KafkaClusterInputs => ({
  bootstrapServers: servers,
  replicas: { count, setBy: "pipeline.replicationFactor" },
});
const check = (news: KafkaClusterInputs) => provider.check({} as KafkaClusterInputs, news);

describe("KafkaCluster provider", () => {
  it("reads the cluster Connect belongs to, with its one broker", async () => {
    const { outs } = await provider.create((await check(inputs(1))).inputs as KafkaClusterInputs);
    const connect = (await axios.get<{ kafka_cluster_id: string }>(harness.connectUrl)).data;
    expect(outs).toMatchObject({ brokerCount: 1, clusterId: connect.kafka_cluster_id });
    expect((await provider.diff(outs!.clusterId, outs!, inputs(1))).changes).toBe(false);
  });

  it("refuses a replication factor above the brokers at check, naming the setting and what is allowed", async () => {
    expect((await check(inputs(3))).failures).toEqual([
      {
        property: "replicas",
        reason: `pipeline.replicationFactor 3 needs as many brokers, and the Kafka cluster at ${bootstrapServers} has 1: set it to at most 1`,
      },
    ]);
    await expect(provider.create(inputs(3))).rejects.toThrow(/has 1: set it to at most 1/);
  });

  it("leaves a cluster that does not answer yet to create, and refuses bad bootstrap servers", async () => {
    const closed = inputs(3, `127.0.0.1:${CLOSED_PORT}`);
    expect((await check(closed)).failures).toEqual([]);
    await expect(provider.create(closed)).rejects.toThrow(`Kafka cluster at 127.0.0.1:${CLOSED_PORT}: Cannot connect`);
    expect((await check(inputs(1, "kafka"))).failures).toEqual([
      { property: "bootstrapServers", reason: "must be a comma-separated list of host:port" },
    ]);
  });
});

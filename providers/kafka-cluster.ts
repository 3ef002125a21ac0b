// KafkaCluster: a read-only view of the Kafka cluster the pipeline's topics live on (its id and broker
// count) that refuses, at preview when the cluster answers, a replication factor above its brokers. It
// changes nothing on the cluster; refresh re-reads it, so a broker lost below the factor shows up as drift.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { checkInputs, containsUnknown } from "../lib/input-check";
import { installedProvider } from "../lib/installed-provider";
import { isUnreachable, readKafkaCluster, replicationProblem, type KafkaClusterFacts } from "../lib/kafka-cluster";
import { versionedProvider } from "../lib/versioned-provider";

const inputsSchema = z.object({
  /** Bootstrap servers as this program reaches them, comma-separated host:port. */
  bootstrapServers: z
    .string("must be a comma-separated list of host:port")
    .regex(/^[^\s,:]+:\d{1,5}(\s*,\s*[^\s,:]+:\d{1,5})*$/, "must be a comma-separated list of host:port"),
  /** The replicas the pipeline's topics are created with, and the setting that asks for them. */
  replicas: z.object({
    count: z.number("must be a number").int("must be a whole number").min(1, "must be at least 1"),
    setBy: z.string("must name the setting"),
  }),
});

export type KafkaClusterInputs = z.infer<typeof inputsSchema>;
export type KafkaClusterState = KafkaClusterInputs & KafkaClusterFacts;

/** The cluster's facts, an error naming the cluster when it does not answer. */
async function readCluster(bootstrapServers: string): Promise<KafkaClusterFacts> {
  return readKafkaCluster(bootstrapServers).catch((err: Error) => {
    throw new Error(`Kafka cluster at ${bootstrapServers}: ${err.message}`);
  });
}

/** create and update succeed only on a cluster with brokers enough. */
async function readSufficientCluster(inputs: KafkaClusterInputs): Promise<KafkaClusterState> {
  const facts = await readCluster(inputs.bootstrapServers);
  const problem = replicationProblem(facts, inputs.bootstrapServers, inputs.replicas);
  if (problem) throw new Error(problem);
  return { ...inputs, ...facts };
}

/** The implementation, loaded by the serialized shim below from the installed project. */
export const kafkaClusterProvider = versionedProvider<KafkaClusterInputs, KafkaClusterState>(
  "KafkaCluster",
  { version: 1, migrations: {} },
  {
    async check(_olds, news) {
      const { inputs, failures } = checkInputs(inputsSchema, news as Record<string, unknown>);
      if (failures.length > 0 || Object.values(inputs).some(containsUnknown)) return { inputs, failures };
      try {
        const facts = await readKafkaCluster(inputs.bootstrapServers);
        const problem = replicationProblem(facts, inputs.bootstrapServers, inputs.replicas);
        return { inputs, failures: problem ? [{ property: "replicas", reason: problem }] : [] };
      } catch (err) {
        // Not up yet (a cluster this deployment starts): create checks it then.
        if (isUnreachable(err)) return { inputs, failures: [] };
        throw err;
      }
    },
    async diff(_id, olds: KafkaClusterState, news: KafkaClusterInputs) {
      const replaces = olds.bootstrapServers !== news.bootstrapServers ? ["bootstrapServers"] : [];
      const changes =
        replaces.length > 0 ||
        JSON.stringify(olds.replicas) !== JSON.stringify(news.replicas) ||
        olds.brokerCount < news.replicas.count;
      return { changes, replaces };
    },
    async create(inputs: KafkaClusterInputs) {
      const state = await readSufficientCluster(inputs);
      return { id: state.clusterId, outs: state };
    },
    async read(id, props?: KafkaClusterState) {
      if (!props) throw new Error(`KafkaCluster ${id}: cannot read without its recorded bootstrap servers`);
      return { id, props: { ...props, ...(await readCluster(props.bootstrapServers)) } };
    },
    async update(_id, _olds, news: KafkaClusterInputs) {
      return { outs: await readSufficientCluster(news) };
    },
    async delete() {
      // Nothing was created on the cluster.
    },
  },
);

export interface KafkaClusterArgs {
  /** Bootstrap servers as this program reaches them, comma-separated host:port. */
  readonly bootstrapServers: pulumi.Input<string>;
  /** The replicas the pipeline's topics are created with, and the stack setting that asks for them. */
  readonly replicas: pulumi.Input<{ count: number; setBy: string }>;
}

const kafkaClusterShim = installedProvider("KafkaCluster");

export class KafkaCluster extends pulumi.dynamic.Resource {
  /** The Kafka cluster id. */
  declare readonly clusterId: pulumi.Output<string>;
  /** Brokers in the cluster's metadata. */
  declare readonly brokerCount: pulumi.Output<number>;
  /** The provider version that last wrote this resource's state. */
  declare readonly providerVersion: pulumi.Output<number>;

  constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      kafkaClusterShim,
      name,
      { ...args, clusterId: undefined, brokerCount: undefined, providerVersion: undefined },
      opts,
      "cdc-pipeline",
      "KafkaCluster",
    );
  }
}

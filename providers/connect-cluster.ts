// ConnectCluster: a read-only view of a Kafka Connect cluster (worker version, Kafka cluster id, installed
// plugins) that fails early when a plugin the pipeline needs is not installed. It changes nothing on the
// worker; refresh re-reads it, so a worker upgrade or a removed plugin shows up as drift.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { connectConnectionSchema, connectHttp, toConnectError } from "../lib/connect-rest";
import { checkInputs } from "../lib/input-check";
import { installedProvider } from "../lib/installed-provider";
import { versionedProvider } from "../lib/versioned-provider";
import { fetchClusterFacts, missingPlugins, type ConnectClusterFacts } from "../lib/worker-facts";

const inputsSchema = z.object({
  /** URL of any worker of the cluster's REST API. */
  url: connectConnectionSchema.shape.url,
  /** Connector classes that must be installed. */
  requiredPlugins: z
    .array(
      z.string("must be a connector class name").min(1, "must be a connector class name"),
      "must be a list of connector class names",
    )
    .default([]),
});

export type ConnectClusterInputs = z.infer<typeof inputsSchema>;
export type ConnectClusterState = ConnectClusterInputs & ConnectClusterFacts;

/** The cluster as it is now; a missing plugin is reported, not thrown, so refresh can record drift. */
async function readCluster(inputs: ConnectClusterInputs): Promise<ConnectClusterState> {
  try {
    const facts = await fetchClusterFacts(connectHttp({ url: inputs.url }, 10_000));
    return { url: inputs.url, requiredPlugins: inputs.requiredPlugins, ...facts };
  } catch (err) {
    throw toConnectError(err, `Kafka Connect at ${inputs.url}`);
  }
}

/** create and update succeed only on a cluster that has every required plugin. */
async function readReadyCluster(inputs: ConnectClusterInputs): Promise<ConnectClusterState> {
  const state = await readCluster(inputs);
  const missing = missingPlugins(state, inputs.requiredPlugins);
  if (missing.length > 0) {
    throw new Error(
      `Kafka Connect at ${inputs.url} lacks the plugins ${missing.join(", ")}; installed: ${state.plugins.join(", ")}`,
    );
  }
  return state;
}

/** The implementation, loaded by the serialized shim below from the installed project. */
export const connectClusterProvider = versionedProvider<ConnectClusterInputs, ConnectClusterState>(
  "ConnectCluster",
  { version: 1, migrations: {} },
  {
    async check(_olds, news) {
      return checkInputs(inputsSchema, news as Record<string, unknown>);
    },
    async diff(_id, olds: ConnectClusterState, news: ConnectClusterInputs) {
      // olds holds the cluster as last observed (refresh updates it): a plugin removed by hand is drift.
      const replaces = olds.url !== news.url ? ["url"] : [];
      const changed =
        replaces.length > 0 ||
        JSON.stringify([...olds.requiredPlugins].sort()) !== JSON.stringify([...news.requiredPlugins].sort()) ||
        missingPlugins(olds, news.requiredPlugins).length > 0;
      return { changes: changed, replaces };
    },
    async create(inputs: ConnectClusterInputs) {
      const state = await readReadyCluster(inputs);
      return { id: `${inputs.url}#${state.kafkaClusterId}`, outs: state };
    },
    async read(id, props?: ConnectClusterState) {
      if (!props) throw new Error(`ConnectCluster ${id}: cannot read without its recorded URL`);
      return { id, props: await readCluster(props) };
    },
    async update(_id, _olds, news: ConnectClusterInputs) {
      return { outs: await readReadyCluster(news) };
    },
    async delete() {
      // Nothing was created on the worker.
    },
  },
);

export interface ConnectClusterArgs {
  /** URL of any worker of the Connect cluster's REST API, for example http://connect:8083. */
  readonly url: pulumi.Input<string>;
  /** Connector classes that must be installed; check fails listing the missing ones. Default: none. */
  readonly requiredPlugins?: pulumi.Input<pulumi.Input<string>[]>;
}

const connectClusterShim = installedProvider("ConnectCluster");

export class ConnectCluster extends pulumi.dynamic.Resource {
  declare readonly url: pulumi.Output<string>;
  declare readonly version: pulumi.Output<string>;
  declare readonly commit: pulumi.Output<string>;
  declare readonly kafkaClusterId: pulumi.Output<string>;
  declare readonly plugins: pulumi.Output<string[]>;
  /** The provider version that last wrote this resource's state. */
  declare readonly providerVersion: pulumi.Output<number>;

  constructor(name: string, args: ConnectClusterArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      connectClusterShim,
      name,
      {
        requiredPlugins: [],
        ...args,
        version: undefined,
        commit: undefined,
        kafkaClusterId: undefined,
        plugins: undefined,
        providerVersion: undefined,
      },
      opts,
      "cdc-pipeline",
      "ConnectCluster",
    );
  }
}

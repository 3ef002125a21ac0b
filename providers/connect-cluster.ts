// ConnectCluster: a read-only view of a Kafka Connect cluster (worker version, Kafka cluster id, installed
// plugins) that fails early when a plugin the pipeline needs is not installed. It changes nothing on the
// worker; refresh re-reads it, so a worker upgrade or a removed plugin shows up as drift.
import * as pulumi from "@pulumi/pulumi";
import type { AxiosInstance } from "axios";
import { connectHttp, toConnectError } from "../lib/connect-rest";

/** What the cluster reports about itself. */
export interface ConnectClusterFacts {
  version: string;
  commit: string;
  kafkaClusterId: string;
  /** Connector plugins as `class@version`, sorted. */
  plugins: string[];
}

export interface ConnectClusterInputs {
  url: string;
  requiredPlugins: string[];
}

export type ConnectClusterState = ConnectClusterInputs & ConnectClusterFacts;

/** GET / and GET /connector-plugins of a worker. */
export async function fetchClusterFacts(http: AxiosInstance): Promise<ConnectClusterFacts> {
  const root = await http.get<{ version: string; commit: string; kafka_cluster_id: string }>("/");
  const plugins = await http.get<{ class: string; version?: string }[]>("/connector-plugins");
  return {
    version: root.data.version,
    commit: root.data.commit,
    kafkaClusterId: root.data.kafka_cluster_id,
    plugins: plugins.data.map((p) => `${p.class}@${p.version ?? "unknown"}`).sort(),
  };
}

/** The required plugin classes that the worker does not have. */
export function missingPlugins(facts: ConnectClusterFacts, required: readonly string[]): string[] {
  const installed = new Set(facts.plugins.map((p) => p.split("@")[0]));
  return required.filter((cls) => !installed.has(cls));
}

/** Validates inputs; returns failures naming the property, as Pulumi's check expects. */
export function checkConnectClusterInputs(news: Partial<ConnectClusterInputs>): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  let url: URL | undefined;
  try {
    url = new URL(String(news.url));
  } catch {
    // reported below
  }
  if (!url || !["http:", "https:"].includes(url.protocol)) {
    failures.push({ property: "url", reason: `must be an http(s) URL of a Kafka Connect worker, got '${news.url}'` });
  }
  if (!Array.isArray(news.requiredPlugins) || news.requiredPlugins.some((p) => typeof p !== "string" || !p)) {
    failures.push({ property: "requiredPlugins", reason: "must be a list of connector class names" });
  }
  return failures;
}

/** The cluster as it is now; a missing plugin is reported, not thrown, so refresh can record drift. */
async function observe(inputs: ConnectClusterInputs): Promise<ConnectClusterState> {
  const http = connectHttp({ url: inputs.url }, 10_000);
  try {
    return { url: inputs.url, requiredPlugins: inputs.requiredPlugins, ...(await fetchClusterFacts(http)) };
  } catch (err) {
    throw toConnectError(err, `Kafka Connect at ${inputs.url}`);
  }
}

/** create and update succeed only on a cluster that has every required plugin. */
async function observeReady(inputs: ConnectClusterInputs): Promise<ConnectClusterState> {
  const state = await observe(inputs);
  const missing = missingPlugins(state, inputs.requiredPlugins);
  if (missing.length > 0) {
    throw new Error(
      `Kafka Connect at ${inputs.url} lacks the plugins ${missing.join(", ")}; installed: ${state.plugins.join(", ")}`,
    );
  }
  return state;
}

export const connectClusterProvider: pulumi.dynamic.ResourceProvider<ConnectClusterInputs, ConnectClusterState> = {
  async check(_olds, news) {
    const inputs = { url: news.url, requiredPlugins: news.requiredPlugins ?? [] };
    return { inputs, failures: checkConnectClusterInputs(inputs) };
  },
  async diff(_id, olds, news) {
    // olds holds the cluster as last observed (refresh updates it): a plugin removed by hand is drift.
    const replaces = olds.url !== news.url ? ["url"] : [];
    const changed =
      replaces.length > 0 ||
      JSON.stringify([...olds.requiredPlugins].sort()) !== JSON.stringify([...news.requiredPlugins].sort()) ||
      missingPlugins(olds, news.requiredPlugins).length > 0;
    return { changes: changed, replaces };
  },
  async create(inputs) {
    const state = await observeReady(inputs);
    return { id: `${inputs.url}#${state.kafkaClusterId}`, outs: state };
  },
  async read(id, props) {
    if (!props) throw new Error(`ConnectCluster ${id}: cannot read without its recorded URL`);
    return { id, props: await observe(props) };
  },
  async update(_id, _olds, news) {
    return { outs: await observeReady(news) };
  },
  async delete() {
    // Nothing was created on the worker.
  },
};

export interface ConnectClusterArgs {
  /** URL of any worker of the Connect cluster's REST API, for example http://connect:8083. */
  readonly url: pulumi.Input<string>;
  /** Connector classes that must be installed; check fails listing the missing ones. Default: none. */
  readonly requiredPlugins?: pulumi.Input<pulumi.Input<string>[]>;
}

export class ConnectCluster extends pulumi.dynamic.Resource {
  declare readonly url: pulumi.Output<string>;
  declare readonly version: pulumi.Output<string>;
  declare readonly commit: pulumi.Output<string>;
  declare readonly kafkaClusterId: pulumi.Output<string>;
  declare readonly plugins: pulumi.Output<string[]>;

  constructor(name: string, args: ConnectClusterArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      connectClusterProvider,
      name,
      {
        requiredPlugins: [],
        ...args,
        version: undefined,
        commit: undefined,
        kafkaClusterId: undefined,
        plugins: undefined,
      },
      opts,
      "cdc-pipeline",
      "ConnectCluster",
    );
  }
}

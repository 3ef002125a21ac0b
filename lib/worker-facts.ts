// The facts ConnectCluster records about a Kafka Connect cluster: the worker's version and commit, the
// Kafka cluster it belongs to, its installed connector plugins, and which required plugins it lacks.
import type { AxiosInstance } from "axios";

export interface ConnectClusterFacts {
  version: string;
  commit: string;
  kafkaClusterId: string;
  /** Connector plugins as `class@version`, sorted. */
  plugins: string[];
}

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

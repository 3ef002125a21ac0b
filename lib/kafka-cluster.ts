// The facts the pipeline needs of its Kafka cluster, read with a Kafka client's metadata request: the
// cluster's id and how many brokers it has, so that topics are never asked for more replicas than there are
// brokers (Connect would fail the source's task when it creates its first change topic).
import { Admin } from "@platformatic/kafka";

export interface KafkaClusterFacts {
  /** The Kafka cluster id (the one Connect's GET / reports as kafka_cluster_id). */
  clusterId: string;
  /** Brokers in the cluster's metadata. */
  brokerCount: number;
}

/** The client's error when no broker answered: a network failure, alone or one per bootstrap server. */
export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; errors?: { code?: string }[] };
  if (e.code === "PLT_KFK_NETWORK") return true;
  return e.code === "PLT_KFK_MULTIPLE" && (e.errors ?? []).every((inner) => inner.code === "PLT_KFK_NETWORK");
}

/** Reads the cluster's metadata from the comma-separated bootstrap servers. */
export async function readKafkaCluster(bootstrapServers: string, timeoutMs = 10_000): Promise<KafkaClusterFacts> {
  const admin = new Admin({
    clientId: "cdc-pipeline",
    bootstrapBrokers: bootstrapServers.split(",").map((server) => server.trim()),
    timeout: timeoutMs,
    retries: 0,
  });
  try {
    const metadata = await admin.metadata({ topics: [] });
    return { clusterId: metadata.id, brokerCount: metadata.brokers.size };
  } finally {
    await admin.close();
  }
}

/** Why the cluster cannot hold topics of that many replicas, naming the setting that asks for them; none when it can. */
export function replicationProblem(
  facts: KafkaClusterFacts,
  bootstrapServers: string,
  replicas: { count: number; setBy: string },
): string | undefined {
  if (replicas.count <= facts.brokerCount) return undefined;
  return (
    `${replicas.setBy} ${replicas.count} needs as many brokers, and the Kafka cluster at ${bootstrapServers} has ` +
    `${facts.brokerCount}: set it to at most ${facts.brokerCount}`
  );
}

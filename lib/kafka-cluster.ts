// The facts the pipeline needs of its Kafka cluster, read with a Kafka client's metadata request: the
// cluster's id and how many brokers it has, so that topics are never asked for more replicas than there are
// brokers (Connect would fail the source's task when it creates its first change topic).
import { randomUUID } from "node:crypto";
import { Admin, Consumer } from "@platformatic/kafka";

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

/**
 * A consumer that reads topics from offsets it chooses: a group of its own, committing nothing (the
 * notification watch and the dead-letter commands read so, and leave no group behind that matters).
 */
export function offsetReader(bootstrapServers: string): Consumer {
  return new Consumer({
    groupId: `cdc-pipeline-reader-${randomUUID()}`,
    clientId: "cdc-pipeline",
    bootstrapBrokers: bootstrapServers.split(",").map((server) => server.trim()),
    autocommit: false,
    timeout: 10_000,
    retries: 2,
  });
}

/** Kafka's ListOffsets timestamps: a partition's end (the next offset written) and its start (the oldest kept). */
export const LATEST = -1n;
export const EARLIEST = -2n;

/** Each partition's offset at `timestamp` (LATEST, EARLIEST); undefined when the topic does not exist (yet). */
export async function topicOffsets(
  consumer: Consumer,
  topic: string,
  timestamp: bigint,
): Promise<bigint[] | undefined> {
  const metadata = await consumer.metadata({ topics: [topic], forceUpdate: true }).catch((err: unknown) => {
    // The broker's answer for a topic it does not have: no metadata for it.
    if (/unknown topic|UNKNOWN_TOPIC/i.test(JSON.stringify(err, Object.getOwnPropertyNames(err)))) return undefined;
    throw err;
  });
  if (!metadata?.topics.has(topic)) return undefined;
  return (await consumer.listOffsets({ topics: [topic], timestamp })).get(topic);
}

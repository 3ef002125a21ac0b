// The names a pipeline derives from its topic prefix, in one place: the component declares them, the
// operations commands look them up.

export interface PipelineNames {
  /** The Debezium source connector. */
  readonly sourceConnector: string;
  /** The JDBC sink connector. */
  readonly sinkConnector: string;
  /** The PostgreSQL source's publication. */
  readonly publication: string;
  /** The PostgreSQL source's logical replication slot (slot names allow only a-z, 0-9 and _). */
  readonly slot: string;
  /** Records the sink could not write. */
  readonly deadLetterTopic: string;
  /** The change topic of a source table ("schema.name"). */
  readonly topic: (table: string) => string;
}

export function pipelineNames(topicPrefix: string): PipelineNames {
  return {
    sourceConnector: `${topicPrefix}-source`,
    sinkConnector: `${topicPrefix}-sink`,
    publication: `${topicPrefix}_publication`,
    slot: `${topicPrefix.toLowerCase().replace(/[^a-z0-9_]/g, "_")}_slot`,
    deadLetterTopic: `${topicPrefix}.dead-letter`,
    topic: (table) => `${topicPrefix}.${table}`,
  };
}

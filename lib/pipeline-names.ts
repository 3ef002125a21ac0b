// The names a pipeline derives from its topic prefix and its source, in one place: the component declares
// them, the operations commands look them up, and a test on the harness pins the change topics to what the
// installed Debezium plugins themselves compute (test/jvm/DebeziumTopicNames.java). The slot, the publication
// and the schema history topic can be named instead: those of hand-made connectors a stack adopts.

/** What topic naming depends on besides the prefix: the source engine and database. */
export interface NamedSource {
  /** sqlserver or postgres. */
  readonly engine: "sqlserver" | "postgres";
  /** The captured database (SQL Server puts it in every change topic's name). */
  readonly database: string;
}

/** The topic prefix, and the names a stack gives instead of deriving them (stack config `pipeline`). */
export interface PipelineNaming {
  /** Prefix of every topic and connector name. */
  readonly topicPrefix: string;
  /** The PostgreSQL source's replication slot. Default: `<prefix>_slot`, lowercased. */
  readonly slotName?: string;
  /** The PostgreSQL source's publication. Default: `<prefix>_publication`. */
  readonly publicationName?: string;
  /** The SQL Server connector's schema history topic. Default: `<prefix>.schema-history`. */
  readonly schemaHistoryTopic?: string;
}

export interface PipelineNames {
  /** The Debezium source connector. */
  readonly sourceConnector: string;
  /** The JDBC sink connector. */
  readonly sinkConnector: string;
  /** The PostgreSQL source's publication. */
  readonly publication: string;
  /** The PostgreSQL source's logical replication slot (slot names allow only a-z, 0-9 and _). */
  readonly slot: string;
  /** The PostgreSQL source's heartbeat table, in ownTablesSchema. */
  readonly heartbeatTable: string;
  /** The source's signalling table (Debezium's signal.data.collection), in ownTablesSchema. */
  readonly signalTable: string;
  /** The topic Debezium's notifications go to (the sink channel): an incremental snapshot's progress. */
  readonly notificationTopic: string;
  /** Records the sink could not write. */
  readonly deadLetterTopic: string;
  /** The SQL Server connector's schema history (must never be deleted by retention). */
  readonly schemaHistoryTopic: string;
  /** The change topic Debezium writes a source table ("schema.name") to. */
  readonly changeTopic: (table: string) => string;
}

/**
 * Debezium replaces each UTF-16 unit outside [A-Za-z0-9._-] in a topic name with '_'
 * (AbstractTopicNamingStrategy.sanitizedTopicName, topic.naming.strategy's default replacement).
 */
const sanitizedTopicName = (name: string): string => name.replace(/[^A-Za-z0-9._-]/g, "_");

/**
 * Debezium's default topic naming strategy (io.debezium.schema.DefaultTopicNamingStrategy) is
 * `<topic.prefix>.<schema>.<table>` for PostgreSQL. The SQL Server connector builds it in multi-partition
 * mode (one partition per entry of database.names), which puts the database in front of the schema:
 * `<topic.prefix>.<database>.<schema>.<table>`.
 */
export function pipelineNames(naming: PipelineNaming, source: NamedSource): PipelineNames {
  const { topicPrefix } = naming;
  const databasePart = source.engine === "sqlserver" ? `${source.database}.` : "";
  const base = topicPrefix.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  return {
    sourceConnector: `${topicPrefix}-source`,
    sinkConnector: `${topicPrefix}-sink`,
    publication: naming.publicationName ?? `${topicPrefix}_publication`,
    slot: naming.slotName ?? `${base}_slot`,
    heartbeatTable: `${base}_cdc_heartbeat`,
    signalTable: `${base}_cdc_signal`,
    notificationTopic: `${topicPrefix}.notifications`,
    deadLetterTopic: `${topicPrefix}.dead-letter`,
    schemaHistoryTopic: naming.schemaHistoryTopic ?? `${topicPrefix}.schema-history`,
    changeTopic: (table) => sanitizedTopicName(`${topicPrefix}.${databasePart}${table}`),
  };
}

/**
 * The schema the pipeline's own tables on the source (heartbeat, signalling) go in: that of a captured table,
 * which the source's user can surely create a table in; the first by name, so that reordering the tables
 * does not move them.
 */
export const ownTablesSchema = (tables: readonly { readonly schema: string }[]): string =>
  tables.map((t) => t.schema).sort()[0];

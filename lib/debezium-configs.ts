// Connector configs the project builds, from typed settings: one place that knows Debezium's 2.x+ keys. Each
// config is layered: the project's defaults, then the operator's extra settings (stack config
// `connectors.<connector>.settings`), then the keys the project derives from the rest of the stack, which no
// extra setting may replace (config.ts refuses them, naming the stack key that sets each).
import type { ConfigValue, ConnectorConfig } from "./connector-config";
import type { ResumePoint } from "./connector-state";
import { normalLsn } from "./connector-lsn";
import { heartbeatQuery, lsnNumber, type PgTable } from "./logical-replication";

/** The operator's knobs of one connector that go into its config. */
export interface ConnectorKnobs {
  /** tasks.max. Default: 1. */
  readonly tasksMax?: number;
  /** Extra settings over the project's defaults (SMTs, converters, batch sizes, heartbeat, signalling). */
  readonly settings?: Readonly<Record<string, ConfigValue>>;
}

/** The kinds of connector the project builds. */
export type ConnectorKind = "sqlserver" | "postgres" | "sink";

/** How a source connector creates its change topics (Connect's topic.creation.*, the default group). */
export interface TopicCreation {
  /** Replication factor; -1: the brokers' default.replication.factor. Default: -1. */
  readonly replicationFactor?: number;
  /** Partitions; -1: the brokers' num.partitions. Default: -1. */
  readonly partitions?: number;
  /** retention.ms; -1 keeps every change. Default: the brokers' log retention. */
  readonly retentionMs?: number;
}

const TOPIC_CREATION_KEYS = {
  "topic.creation.default.replication.factor": "pipeline.replicationFactor",
  "topic.creation.default.partitions": "pipeline.topicPartitions",
  "topic.creation.default.retention.ms": "pipeline.topicRetentionMs",
} as const;

/** Derived keys a config holds only when their stack key is set. */
type OptionalDerivedKey = "topic.creation.default.retention.ms";

/** The topic.creation.* keys of a source (retention only when set: absent, the topics take the brokers'). */
function topicCreationConfig(t: TopicCreation = {}) {
  return {
    "topic.creation.default.replication.factor": String(t.replicationFactor ?? -1),
    "topic.creation.default.partitions": String(t.partitions ?? -1),
    ...(t.retentionMs !== undefined ? { "topic.creation.default.retention.ms": String(t.retentionMs) } : {}),
  };
}

/**
 * The keys the project derives for each kind of connector, each with the stack setting it comes from: an extra
 * setting for one of them is refused, since the rest of the pipeline (CDC, the topics, the target) relies on it.
 */
export const DERIVED_KEYS = {
  sqlserver: {
    "connector.class": "source.engine",
    "database.hostname": "source.host",
    "database.port": "source.port",
    "database.user": "source.user (or source.connectorUser)",
    "database.password": "the secret sourcePassword (or connectorPassword)",
    "database.names": "source.database",
    "database.encrypt": "source.encrypt",
    "database.trustServerCertificate": "source.trustServerCertificate",
    "topic.prefix": "pipeline.topicPrefix",
    "table.include.list": "tables",
    "snapshot.mode": "pipeline.snapshotMode",
    "schema.history.internal.kafka.bootstrap.servers": "kafkaConnect.bootstrapServers",
    "schema.history.internal.kafka.topic": "pipeline.schemaHistoryTopic (default from pipeline.topicPrefix)",
    "signal.data.collection": "pipeline.topicPrefix and source.database (the signalling table SqlServerCdc makes)",
    "notification.sink.topic.name": "pipeline.topicPrefix",
    ...TOPIC_CREATION_KEYS,
    "tasks.max": "connectors.source.tasksMax",
  },
  postgres: {
    "connector.class": "source.engine",
    "database.hostname": "source.host",
    "database.port": "source.port",
    "database.user": "source.user (or source.connectorUser)",
    "database.password": "the secret sourcePassword (or connectorPassword)",
    "database.dbname": "source.database",
    "topic.prefix": "pipeline.topicPrefix",
    "plugin.name": "source.engine (pgoutput, the publication PostgresCdc makes)",
    "publication.name": "pipeline.publicationName (default from pipeline.topicPrefix)",
    "publication.autocreate.mode": "source.engine (PostgresCdc makes the publication)",
    "slot.name": "pipeline.slotName (default from pipeline.topicPrefix)",
    "heartbeat.action.query": "pipeline.topicPrefix (the heartbeat table PostgresCdc makes)",
    "signal.data.collection": "pipeline.topicPrefix (the signalling table PostgresCdc makes)",
    "notification.sink.topic.name": "pipeline.topicPrefix",
    "table.include.list": "tables",
    "snapshot.mode": "pipeline.snapshotMode",
    ...TOPIC_CREATION_KEYS,
    "tasks.max": "connectors.source.tasksMax",
  },
  sink: {
    "connector.class": "the JDBC sink",
    "connection.url": "target.host, target.port and target.database",
    "connection.username": "target.user",
    "connection.password": "the secret targetPassword",
    topics: "tables",
    "primary.key.mode": "tables[].primaryKey",
    "collection.name.format": "target.schema",
    "errors.deadletterqueue.topic.name": "pipeline.topicPrefix",
    "errors.deadletterqueue.topic.replication.factor": "pipeline.replicationFactor",
    "tasks.max": "connectors.sink.tasksMax",
  },
} as const satisfies Record<ConnectorKind, Record<string, string>>;

/**
 * The JDBC sink's settings that take one of a fixed set of values (in any case), and those values. Its
 * /config/validate does not check them: the plugin's own fields do only when its task starts, which then
 * fails. So the stack checks them (config.ts); test/integration/debezium-field-values.test.ts pins them to
 * the plugin's fields. primary.key.mode is derived, never a setting.
 */
export const SINK_ENUM_SETTINGS: Readonly<Record<string, readonly string[]>> = {
  "insert.mode": ["insert", "update", "upsert"],
  "schema.evolution": ["basic", "none"],
};

/**
 * List settings of a source that may be extended but must keep an entry: `resync`, `repair` and the
 * backfills send signals through the signalling table (the source channel) and wait for Debezium's
 * notifications on the notification topic (the sink channel). config.ts refuses a setting without it.
 */
export const SOURCE_REQUIRED_ENTRIES: Readonly<Record<string, string>> = {
  "signal.enabled.channels": "source",
  "notification.enabled.channels": "sink",
};

/** A key whose value a connector to adopt must share with the declared one (lib/connector-lifecycle). */
export interface AdoptionKey {
  /** The stack key that sets it in the declared config. */
  readonly setBy: string;
  /** The plugin's default, the value of a hand-made config that leaves the key out. */
  readonly pluginDefault?: string;
}

/**
 * The keys whose values give a connector's committed offsets their meaning: Debezium's source offsets are
 * stored under topic.prefix (and the SQL Server database), and point into a slot, a publication or a schema
 * history. A hand-made connector is adopted only when it has the same values. A sink's offsets are per topic
 * partition: the same topics follow from the same topic.prefix of the source.
 */
export const ADOPTION_KEYS: Record<ConnectorKind, Readonly<Record<string, AdoptionKey>>> = {
  sqlserver: {
    "topic.prefix": { setBy: "pipeline.topicPrefix" },
    "database.names": { setBy: "source.database" },
    "schema.history.internal.kafka.topic": { setBy: "pipeline.schemaHistoryTopic" },
  },
  postgres: {
    "topic.prefix": { setBy: "pipeline.topicPrefix" },
    "database.dbname": { setBy: "source.database" },
    "slot.name": { setBy: "pipeline.slotName", pluginDefault: "debezium" },
    "publication.name": { setBy: "pipeline.publicationName", pluginDefault: "dbz_publication" },
  },
  sink: {},
};

/** A connector's derived keys, as DERIVED_KEYS lists them (the sensitive one aside; the optional ones when set). */
type DerivedKey<K extends ConnectorKind> = Exclude<keyof (typeof DERIVED_KEYS)[K], `${string}password`>;
type Derived<K extends ConnectorKind> = Record<Exclude<DerivedKey<K>, OptionalDerivedKey>, string> &
  Partial<Record<Extract<DerivedKey<K>, OptionalDerivedKey>, string>>;

/** The layers of a config, as the header says; the values sent as strings. */
function layered<K extends ConnectorKind>(
  defaults: ConnectorConfig,
  knobs: ConnectorKnobs,
  derived: Derived<K>,
): ConnectorConfig {
  const settings = Object.fromEntries(Object.entries(knobs.settings ?? {}).map(([k, v]) => [k, String(v)]));
  return { ...defaults, ...settings, ...derived };
}

/** What every source connector needs: where the database is, what to capture, how to name topics. */
interface SourceSettings {
  /** Prefix of every topic (Debezium's topic.prefix). */
  topicPrefix: string;
  host: string;
  port: number;
  database: string;
  user: string;
  /** Tables as "schema.table". */
  tables: string[];
  /** initial (snapshot, then stream), no_data (stream only), when_needed... Default: initial. */
  snapshotMode?: string;
  /** How the change topics are created. Default: as the brokers' defaults say. */
  topicCreation?: TopicCreation;
}

export interface SqlServerSourceSettings extends SourceSettings {
  /** Kafka bootstrap servers for the schema history topic. */
  kafkaBootstrap: string;
  /** The schema history topic (pipelineNames' schemaHistoryTopic). */
  schemaHistoryTopic: string;
  /** Encrypt the JDBC connection. Default: true. */
  encrypt?: boolean;
  /** Trust a self-signed server certificate. Default: false. */
  trustServerCertificate?: boolean;
  /** The signalling table (SqlServerCdc makes it and captures it: signals reach Debezium as its change data). */
  signalTable: { schema: string; name: string };
  /** The topic of Debezium's notifications (pipelineNames' notificationTopic). */
  notificationTopic: string;
}

/**
 * The Debezium SQL Server source config (without database.password, which goes in sensitiveConfig). The
 * schema history topic must never be deleted by retention: the connector cannot restart without it. Signals
 * through the signalling table, named database.schema.table as the connector names its tables,
 * notifications to their topic (SOURCE_REQUIRED_ENTRIES).
 */
export function sqlServerSourceConfig(s: SqlServerSourceSettings, knobs: ConnectorKnobs = {}): ConnectorConfig {
  return layered<"sqlserver">(SOURCE_REQUIRED_ENTRIES, knobs, {
    "connector.class": "io.debezium.connector.sqlserver.SqlServerConnector",
    "database.hostname": s.host,
    "database.port": String(s.port),
    "database.user": s.user,
    "database.names": s.database,
    "database.encrypt": String(s.encrypt ?? true),
    "database.trustServerCertificate": String(s.trustServerCertificate ?? false),
    "topic.prefix": s.topicPrefix,
    "table.include.list": s.tables.join(","),
    "snapshot.mode": s.snapshotMode ?? "initial",
    "schema.history.internal.kafka.bootstrap.servers": s.kafkaBootstrap,
    "schema.history.internal.kafka.topic": s.schemaHistoryTopic,
    "signal.data.collection": `${s.database}.${s.signalTable.schema}.${s.signalTable.name}`,
    "notification.sink.topic.name": s.notificationTopic,
    ...topicCreationConfig(s.topicCreation),
    "tasks.max": String(knobs.tasksMax ?? 1),
  });
}

export interface PostgresSourceSettings extends SourceSettings {
  /** Publication and slot, made by PostgresCdc (the connector creates neither). */
  publication: string;
  slot: string;
  /** The table each heartbeat writes (PostgresCdc makes it and publishes it). */
  heartbeatTable: PgTable;
  /** The signalling table (PostgresCdc makes it and publishes it: signals reach Debezium through the slot). */
  signalTable: PgTable;
  /** The topic of Debezium's notifications (pipelineNames' notificationTopic). */
  notificationTopic: string;
}

/**
 * The PostgreSQL source's defaults: a heartbeat every 10 s. Each one writes the heartbeat table, whose change
 * the connector receives even while the captured tables are idle, and so confirms the WAL it has read to its
 * slot: the server does not keep that WAL for it. Signals through the signalling table, notifications to
 * their topic (SOURCE_REQUIRED_ENTRIES).
 */
export const POSTGRES_SOURCE_DEFAULTS: ConnectorConfig = {
  "heartbeat.interval.ms": "10000",
  ...SOURCE_REQUIRED_ENTRIES,
};

/** The Debezium PostgreSQL source config (without database.password). */
export function postgresSourceConfig(s: PostgresSourceSettings, knobs: ConnectorKnobs = {}): ConnectorConfig {
  return layered<"postgres">(POSTGRES_SOURCE_DEFAULTS, knobs, {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": s.host,
    "database.port": String(s.port),
    "database.user": s.user,
    "database.dbname": s.database,
    "topic.prefix": s.topicPrefix,
    "plugin.name": "pgoutput",
    "publication.name": s.publication,
    "publication.autocreate.mode": "disabled",
    "slot.name": s.slot,
    "heartbeat.action.query": heartbeatQuery(s.heartbeatTable),
    "signal.data.collection": `${s.signalTable.schema}.${s.signalTable.name}`,
    "notification.sink.topic.name": s.notificationTopic,
    "table.include.list": s.tables.join(","),
    "snapshot.mode": s.snapshotMode ?? "initial",
    ...topicCreationConfig(s.topicCreation),
    "tasks.max": String(knobs.tasksMax ?? 1),
  });
}

export interface JdbcSinkSettings {
  /** Topics to read, one per source table. */
  topics: string[];
  host: string;
  port: number;
  database: string;
  user: string;
  /** Schema of the target tables; each table is named after its source table. */
  schema: string;
  /** Topic for records the sink cannot write. */
  deadLetterTopic: string;
  /** Replication factor of the dead-letter topic; -1 leaves it to the brokers' default. Default: -1. */
  deadLetterReplicationFactor?: number;
}

/**
 * The JDBC sink's defaults: upserts by the record key, deletes applied (without it deletes never reach the
 * target), new columns added, failing records sent to the dead-letter topic with their context.
 */
export const SINK_DEFAULTS: ConnectorConfig = {
  "insert.mode": "upsert",
  "delete.enabled": "true",
  "schema.evolution": "basic",
  "errors.tolerance": "all",
  "errors.deadletterqueue.context.headers.enable": "true",
};

/** The Debezium JDBC sink config (without connection.password). */
export function jdbcSinkConfig(s: JdbcSinkSettings, knobs: ConnectorKnobs = {}): ConnectorConfig {
  return layered<"sink">(SINK_DEFAULTS, knobs, {
    "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
    "connection.url": `jdbc:postgresql://${s.host}:${s.port}/${s.database}`,
    "connection.username": s.user,
    topics: s.topics.join(","),
    "primary.key.mode": "record_key",
    "collection.name.format": `${s.schema}.\${source.table}`,
    "errors.deadletterqueue.topic.name": s.deadLetterTopic,
    "errors.deadletterqueue.topic.replication.factor": String(s.deadLetterReplicationFactor ?? -1),
    "tasks.max": String(knobs.tasksMax ?? 1),
  });
}

/**
 * Where a PostgreSQL source resumes once its slot was made again (dropped by hand) at `lsn`: Debezium's
 * offset in its partition {server: topic.prefix}, holding the position alone (`lsn`; no `lsn_proc`, so no
 * check against the slot's restart and no search for a position; no snapshot keys, so no snapshot). The
 * token names the slot and its start, so that each new slot is a new resume point.
 */
export function postgresResumePoint(topicPrefix: string, slot: string, lsn: string): ResumePoint {
  return {
    token: `${slot}@${lsn}`,
    offsets: [{ partition: { server: topicPrefix }, offset: { lsn: lsnNumber(lsn) } }],
  };
}

/**
 * Where a SQL Server source resumes once its position was lost (the cleanup job removed changes it had not
 * read) at `lsn` (20 hex digits, SqlServerCdc's resumeAt): Debezium's offset in its partition {server:
 * topic.prefix, database}, holding the commit position alone (no change_lsn: the whole transaction at `lsn`
 * is read; no snapshot keys, so no snapshot). The token names the database and the position.
 */
export function sqlServerResumePoint(topicPrefix: string, database: string, lsn: string): ResumePoint {
  const digits = normalLsn(lsn);
  if (digits.length !== 20) throw new Error(`'${lsn}' is not a SQL Server LSN (20 hex digits)`);
  return {
    token: `${database}@${digits}`,
    offsets: [
      {
        partition: { server: topicPrefix, database },
        // io.debezium.connector.sqlserver.Lsn's text form.
        offset: { commit_lsn: `${digits.slice(0, 8)}:${digits.slice(8, 16)}:${digits.slice(16)}` },
      },
    ],
  };
}

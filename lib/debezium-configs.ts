// Connector configs the project builds, from typed settings: one place that knows Debezium's 2.x+ keys.
import type { ConnectorConfig } from "./connector-config";

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
}

/**
 * The Debezium SQL Server source config (without database.password, which goes in sensitiveConfig). The
 * schema history topic must never be deleted by retention: the connector cannot restart without it.
 */
export function sqlServerSourceConfig(s: SqlServerSourceSettings): ConnectorConfig {
  return {
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
    "tasks.max": "1",
  };
}

export interface PostgresSourceSettings extends SourceSettings {
  /** Publication and slot, made by PostgresCdc (the connector creates neither). */
  publication: string;
  slot: string;
}

/** The Debezium PostgreSQL source config (without database.password). */
export function postgresSourceConfig(s: PostgresSourceSettings): ConnectorConfig {
  return {
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
    "table.include.list": s.tables.join(","),
    "snapshot.mode": s.snapshotMode ?? "initial",
    "tasks.max": "1",
  };
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
 * The Debezium JDBC sink config (without connection.password): upserts by the record key, deletes
 * applied (without it deletes never reach the target), failing records sent to a dead-letter topic.
 */
export function jdbcSinkConfig(s: JdbcSinkSettings): ConnectorConfig {
  return {
    "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
    "connection.url": `jdbc:postgresql://${s.host}:${s.port}/${s.database}`,
    "connection.username": s.user,
    topics: s.topics.join(","),
    "insert.mode": "upsert",
    "primary.key.mode": "record_key",
    "delete.enabled": "true",
    "schema.evolution": "basic",
    "collection.name.format": `${s.schema}.\${source.table}`,
    "errors.tolerance": "all",
    "errors.deadletterqueue.topic.name": s.deadLetterTopic,
    "errors.deadletterqueue.topic.replication.factor": String(s.deadLetterReplicationFactor ?? -1),
    "errors.deadletterqueue.context.headers.enable": "true",
    "tasks.max": "1",
  };
}

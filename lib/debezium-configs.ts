// Connector configs the project builds, from typed settings: one place that knows Debezium's 2.x+ keys.
import type { ConnectorConfig } from "./connector-config";

export interface SqlServerSourceSettings {
  /** Prefix of every topic (Debezium's topic.prefix); also names the schema history topic. */
  topicPrefix: string;
  host: string;
  port: number;
  database: string;
  user: string;
  /** Tables as "schema.table". */
  tables: string[];
  /** Kafka bootstrap servers for the schema history topic. */
  kafkaBootstrap: string;
  /** initial (snapshot, then stream), no_data (stream only), when_needed... Default: initial. */
  snapshotMode?: string;
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
    "schema.history.internal.kafka.topic": `${s.topicPrefix}.schema-history`,
    "tasks.max": "1",
  };
}

// A Debezium PostgreSQL source and a Debezium JDBC sink between the harness's clusters, deployed through
// the real Pulumi CLI by test/e2e/kafka-connector.test.ts.
import * as pulumi from "@pulumi/pulumi";
import { KafkaConnector } from "../../../providers/kafka-connector";

const config = new pulumi.Config();
const cluster = { url: config.require("connectUrl") };
const prefix = config.require("prefix");
const table = config.require("table");
const password = config.requireSecret("pgPassword");

const source = new KafkaConnector("source", {
  cluster,
  name: `${prefix}-source`,
  config: {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": "127.0.0.1",
    "database.port": config.requireNumber("sourcePort"),
    "database.user": "postgres",
    "database.dbname": "cdc_source",
    "topic.prefix": prefix,
    "plugin.name": "pgoutput",
    "slot.name": prefix,
    "publication.name": prefix,
    "publication.autocreate.mode": "filtered",
    "table.include.list": `public.${table}`,
    "tasks.max": 1,
  },
  sensitiveConfig: { "database.password": password },
  readyTimeoutSeconds: 60,
});

const sink = new KafkaConnector("sink", {
  cluster,
  name: `${prefix}-sink`,
  config: {
    "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
    "connection.url": `jdbc:postgresql://127.0.0.1:${config.requireNumber("targetPort")}/cdc_target`,
    "connection.username": "postgres",
    topics: `${prefix}.public.${table}`,
    "insert.mode": "upsert",
    "primary.key.mode": "record_key",
    "delete.enabled": true,
    "schema.evolution": "basic",
    "collection.name.format": table,
  },
  sensitiveConfig: { "connection.password": password },
  readyTimeoutSeconds: 60,
});

export const sourceState = source.state;
export const sinkState = sink.state;
export const sinkTasks = sink.tasks;
export const sourceTopics = source.topics;
export const workerVersion = sink.workerVersion;

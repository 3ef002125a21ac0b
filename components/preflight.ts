// Preflight: the services the pipeline runs on, checked before anything is built on them: the Kafka
// Connect cluster has the source and sink plugins, the Kafka cluster has brokers enough for the topics'
// replicas, the source database is ready for CDC, the target database accepts the pipeline's credentials.
// Later resources depend on it, so a wrong endpoint fails here with one clear message instead of half-way
// through a deployment.
import * as pulumi from "@pulumi/pulumi";
import type { PostgresConnectionArgs } from "../lib/postgres";
import { ConnectCluster } from "../providers/connect-cluster";
import { KafkaCluster } from "../providers/kafka-cluster";
import { PostgresServer } from "../providers/postgres-server";

/** Debezium connector classes by source engine, and the JDBC sink class. */
export const SOURCE_CONNECTOR_CLASSES = {
  sqlserver: "io.debezium.connector.sqlserver.SqlServerConnector",
  postgres: "io.debezium.connector.postgresql.PostgresConnector",
} as const;
export const SINK_CONNECTOR_CLASS = "io.debezium.connector.jdbc.JdbcSinkConnector";

export interface PreflightArgs {
  /** URL of the Kafka Connect REST API. */
  readonly connectUrl: pulumi.Input<string>;
  /** Source engine: decides the Debezium plugin required and how the source is checked. */
  readonly sourceEngine: keyof typeof SOURCE_CONNECTOR_CLASSES;
  /** The source database's connection; checked here for PostgreSQL only (SQL Server by its CDC resource). */
  readonly source: PostgresConnectionArgs;
  /** The target PostgreSQL database's connection. */
  readonly target: PostgresConnectionArgs;
  /** Further connector classes the worker must have. Default: none. */
  readonly extraPlugins?: readonly string[];
  /** The Kafka cluster as this program reaches it, and the replicas the pipeline's topics are created with. */
  readonly kafka: {
    /** Bootstrap servers, comma-separated host:port. */
    readonly bootstrapServers: pulumi.Input<string>;
    /** Replicas of each topic the connectors create, and the stack setting that asks for them. */
    readonly replicas: { readonly count: number; readonly setBy: string };
  };
}

/** The connection fields alone: anything else the caller's object holds stays out of the server's inputs. */
const connectionOf = ({ host, port, database, user, password }: PostgresConnectionArgs): PostgresConnectionArgs => ({
  host,
  port,
  database,
  user,
  password,
});

export class Preflight extends pulumi.ComponentResource {
  /** The Connect cluster as observed. */
  readonly connect: ConnectCluster;
  /** The Kafka cluster as observed. */
  readonly kafka: KafkaCluster;
  /** The source server as observed, when it is PostgreSQL. */
  readonly sourceServer?: PostgresServer;
  /** The target server as observed. */
  readonly targetServer: PostgresServer;

  constructor(name: string, args: PreflightArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc-pipeline:index:Preflight", name, {}, opts);
    this.connect = new ConnectCluster(
      `${name}-connect`,
      {
        url: args.connectUrl,
        requiredPlugins: [
          SOURCE_CONNECTOR_CLASSES[args.sourceEngine],
          SINK_CONNECTOR_CLASS,
          ...(args.extraPlugins ?? []),
        ],
      },
      { parent: this },
    );
    this.kafka = new KafkaCluster(`${name}-kafka`, args.kafka, { parent: this });
    if (args.sourceEngine === "postgres") {
      this.sourceServer = new PostgresServer(
        `${name}-source`,
        // Debezium's pgoutput plugin needs logical decoding.
        { ...connectionOf(args.source), requiredSettings: { wal_level: "logical" } },
        { parent: this },
      );
    }
    this.targetServer = new PostgresServer(`${name}-target`, connectionOf(args.target), { parent: this });
    // What the stack reports of the services it checked.
    this.registerOutputs({
      connectVersion: this.connect.version,
      kafkaClusterId: this.connect.kafkaClusterId,
      connectPlugins: this.connect.plugins,
      kafkaBrokerCount: this.kafka.brokerCount,
      sourceServerVersion: this.sourceServer?.serverVersion,
      targetServerVersion: this.targetServer.serverVersion,
    });
  }
}

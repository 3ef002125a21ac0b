// CdcPipeline: from one description of the tables, the whole change-data-capture path, in order: CDC
// enabled on the source (SQL Server or PostgreSQL) and the target tables created, then the Debezium
// source connector and the JDBC sink connector, then the backfills: tables added later, and every table once
// the source resumed at a new position (a PostgreSQL slot made again, SQL Server change data cleaned up
// before it was read).
import * as pulumi from "@pulumi/pulumi";
import type { ConnectConnection } from "../lib/connect-rest";
import type { DesiredState } from "../lib/connector-api";
import {
  ADOPTION_KEYS,
  jdbcSinkConfig,
  postgresResumePoint,
  sqlServerResumePoint,
  postgresSourceConfig,
  sqlServerSourceConfig,
  type ConnectorKind,
  type ConnectorKnobs,
} from "../lib/debezium-configs";
import { ownTablesSchema, pipelineNames } from "../lib/pipeline-names";
import { KafkaConnector } from "../providers/kafka-connector";
import { PostgresCdc } from "../providers/postgres-cdc";
import { PostgresSchema, type ColumnSpec } from "../providers/postgres-schema";
import { SourceBackfill } from "../providers/source-backfill";
import { SqlServerCdc } from "../providers/sqlserver-cdc";

/** One captured table: its name on the source, and its columns as the target has them. */
export interface PipelineTable {
  /** Source schema (also used in topic names). */
  readonly schema: string;
  /** Table name, the same on source and target. */
  readonly name: string;
  /** Target columns with PostgreSQL types. */
  readonly columns: ColumnSpec[];
  /** Primary key columns (the sink upserts and deletes by them). */
  readonly primaryKey: string[];
  /** A SQL Server source's CDC options for the table. Default: no gating role, no net changes, the default filegroup. */
  readonly sqlServer?: {
    /** The gating role a reader of the change data must hold. */
    readonly gatingRole?: string;
    /** Create the net-changes function. */
    readonly netChanges?: boolean;
    /** The change table's filegroup. */
    readonly filegroup?: string;
  };
}

/** A server's address as one client reaches it; host and port may be other resources' outputs. */
export interface EndpointInput {
  /** Host name or address. */
  readonly host: pulumi.Input<string>;
  /** TCP port. */
  readonly port: pulumi.Input<number>;
}

export interface DatabaseArgs extends EndpointInput {
  /** Database name. */
  readonly database: pulumi.Input<string>;
  /** Role the pipeline connects as. */
  readonly user: pulumi.Input<string>;
  /** Its password (secret). */
  readonly password: pulumi.Input<string>;
}

/** TLS to a SQL Server source, for the CDC resource and the source connector alike. */
export interface SqlServerTls {
  /** Encrypt the connection. Default: true. */
  readonly encrypt?: boolean;
  /** Accept a certificate no trusted CA signed (the containers' self-signed one). Default: false. */
  readonly trustServerCertificate?: boolean;
}

/** The source database: its name is plain, since the connector's and the topics' names derive from it. */
export interface SourceDatabaseArgs extends DatabaseArgs, SqlServerTls {
  /** Database name (a SQL Server source's change topics carry it). */
  readonly database: string;
}

/** A Connect cluster's connection (lib/connect-rest), each field possibly another resource's output. */
export type ConnectConnectionInput = {
  readonly [K in keyof ConnectConnection]: pulumi.Input<ConnectConnection[K]>;
};

/** The operator's knobs of one connector (stack config `connectors.source`, `connectors.sink`). */
export interface ConnectorOptions extends ConnectorKnobs {
  /** Desired state, held by `pulumi up`: running, paused or stopped. Default: running. */
  readonly state?: pulumi.Input<DesiredState>;
  /** Config keys something else manages, left out of diffs and the drift check. Default: none. */
  readonly ignoreKeys?: pulumi.Input<pulumi.Input<string>[]>;
  /** A hand-made connector on the cluster whose offsets the first create takes over, then deletes. Default: none. */
  readonly adoptFrom?: string;
}

export interface CdcPipelineArgs {
  /** The Kafka Connect cluster the connectors run on. */
  readonly connect: pulumi.Input<ConnectConnectionInput>;
  /** Kafka bootstrap servers as the Connect workers reach them (the SQL Server connector's schema history). */
  readonly kafkaBootstrap: pulumi.Input<string>;
  /** Kafka bootstrap servers as this program reaches them (the backfills read notifications). Default: kafkaBootstrap. */
  readonly kafkaBootstrapFromProgram?: pulumi.Input<string>;
  /**
   * Where the Connect workers reach the databases, when it differs from where this program does (the
   * containers' network names). Default: the source's and target's own host and port.
   */
  readonly fromWorkers?: {
    readonly source: pulumi.Input<EndpointInput>;
    readonly target: pulumi.Input<EndpointInput>;
  };
  /** Create the source database when it is missing (the containers' fresh SQL Server). Default: false. */
  readonly createSourceDatabase?: boolean;
  /** Source engine. */
  readonly sourceEngine: "sqlserver" | "postgres";
  /** The source database as this program reaches it; for SQL Server also its TLS settings. */
  readonly source: SourceDatabaseArgs;
  /** The target PostgreSQL database and the schema the tables live in. */
  readonly target: DatabaseArgs & {
    /** The schema the tables live in. */
    readonly schema: string;
    /** Let `pulumi up` drop target columns or narrow their types (data lost). Default: false (refused). */
    readonly allowDestructive?: boolean;
  };
  /** The tables to capture. */
  readonly tables: PipelineTable[];
  /** Prefix of topics, connector names, publication and slot. */
  readonly topicPrefix: string;
  /** A PostgreSQL source's replication slot (an adopted connector's). Default: `<prefix>_slot`. */
  readonly slotName?: string;
  /** A PostgreSQL source's publication (an adopted connector's). Default: `<prefix>_publication`. */
  readonly publicationName?: string;
  /** A SQL Server source's schema history topic (an adopted connector's). Default: `<prefix>.schema-history`. */
  readonly schemaHistoryTopic?: string;
  /** Debezium snapshot.mode: initial rebuilds the target from a snapshot first. Default: initial. */
  readonly snapshotMode?: string;
  /** Replication factor of the change and dead-letter topics; -1: the brokers' default.replication.factor. Default: -1. */
  readonly replicationFactor?: number;
  /** Partitions of each change topic; -1: the brokers' num.partitions. Default: -1. */
  readonly topicPartitions?: number;
  /** retention.ms of each change topic. Default: the brokers' log retention. */
  readonly topicRetentionMs?: number;
  /**
   * Set it, or change it, after the source was restored (failover, failback): the target tables are emptied
   * and the source connector's offsets reset, so a fresh snapshot rebuilds the target. Default: none.
   */
  readonly rebuild?: pulumi.Input<string>;
  /**
   * A least-privilege login the CDC resource creates for the source connector, which then connects as it
   * (PostgreSQL: LOGIN REPLICATION with SELECT on the tables; SQL Server: a login and database user with
   * SELECT and the gating roles). Default: none; the connector connects as the source's user.
   */
  readonly connectorLogin?: { readonly user: pulumi.Input<string>; readonly password: pulumi.Input<string> };
  /** Each connector's state, tasks, extra settings and ignored keys. Default: running, one task, the project's settings. */
  readonly connectors?: { readonly source?: ConnectorOptions; readonly sink?: ConnectorOptions };
}

/** What a connector's adoptFrom asks of the hand-made connector: the keys its offsets depend on. */
const adoption = (knobs: ConnectorOptions, kind: ConnectorKind) =>
  knobs.adoptFrom ? { name: knobs.adoptFrom, sameKeys: ADOPTION_KEYS[kind] } : undefined;

export class CdcPipeline extends pulumi.ComponentResource {
  /** CDC enablement on the source. */
  readonly cdc: SqlServerCdc | PostgresCdc;
  /** The target tables. */
  readonly targetSchema: PostgresSchema;
  /** The Debezium source connector. */
  readonly sourceConnector: KafkaConnector;
  /** The JDBC sink connector. */
  readonly sinkConnector: KafkaConnector;
  /** The source's backfills: tables added later, and every table after the connector resumed at a new position. */
  readonly backfill: SourceBackfill;

  constructor(name: string, args: CdcPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc-pipeline:index:CdcPipeline", name, {}, opts);
    const { source, target, topicPrefix } = args;
    const tableNames = args.tables.map((t) => `${t.schema}.${t.name}`);
    const names = pipelineNames(args, { engine: args.sourceEngine, database: source.database });
    const { slot, publication } = names;
    const ownSchema = ownTablesSchema(args.tables);
    const heartbeatTable = { schema: ownSchema, name: names.heartbeatTable };
    const signalTable = { schema: ownSchema, name: names.signalTable };
    const cluster = pulumi.output(args.connect);
    const { source: sourceKnobs = {}, sink: sinkKnobs = {} } = args.connectors ?? {};

    if (args.sourceEngine === "postgres") {
      this.cdc = new PostgresCdc(
        `${name}-cdc`,
        {
          host: source.host,
          port: source.port,
          database: source.database,
          user: source.user,
          password: source.password,
          publication,
          slot,
          tables: args.tables.map(({ schema, name }) => ({ schema, name })),
          replicationUser: args.connectorLogin?.user,
          replicationPassword: args.connectorLogin?.password,
          heartbeatTable,
          signalTable,
        },
        { parent: this },
      );
    } else {
      this.cdc = new SqlServerCdc(
        `${name}-cdc`,
        {
          host: source.host,
          port: source.port,
          database: source.database,
          user: source.user,
          password: source.password,
          encrypt: source.encrypt,
          trustServerCertificate: source.trustServerCertificate,
          createDatabase: args.createSourceDatabase,
          // The declared columns are the captured ones: a column added to a table's declaration gets a new
          // capture instance, and the old one is retired once the source connector has switched to it.
          tables: args.tables.map(({ schema, name, columns, sqlServer }) => ({
            schema,
            name,
            capturedColumns: columns.map((c) => c.name),
            role: sqlServer?.gatingRole,
            supportsNetChanges: sqlServer?.netChanges,
            filegroup: sqlServer?.filegroup,
          })),
          connector: { cluster, name: names.sourceConnector },
          connectorLogin: args.connectorLogin?.user,
          connectorPassword: args.connectorLogin?.password,
          signalTable,
        },
        { parent: this },
      );
    }

    // Only the connection fields: whatever else the caller's object holds stays out of the resource's inputs.
    this.targetSchema = new PostgresSchema(
      `${name}-schema`,
      {
        host: target.host,
        port: target.port,
        database: target.database,
        user: target.user,
        password: target.password,
        schema: target.schema,
        tables: args.tables.map((t) => ({ name: t.name, columns: t.columns, primaryKey: t.primaryKey })),
        allowDestructive: target.allowDestructive,
        rebuildToken: args.rebuild,
      },
      { parent: this },
    );

    // The connectors reach the databases from inside the Connect workers; the source connector reads as the
    // least-privilege login when there is one. Host and port alone are taken from the databases, so the
    // configs never become secret through a password in the same object.
    const fromWorkers = args.fromWorkers ?? {
      source: { host: source.host, port: source.port },
      target: { host: target.host, port: target.port },
    };
    const reader = args.connectorLogin ?? source;
    // Applied by Connect when it creates a topic: a topic that exists already keeps its settings.
    const topicCreation = {
      replicationFactor: args.replicationFactor,
      partitions: args.topicPartitions,
      retentionMs: args.topicRetentionMs,
    };
    const sourceConfig = pulumi
      .all([pulumi.output(fromWorkers.source), reader.user, args.kafkaBootstrap])
      .apply(([at, user, kafkaBootstrap]) => {
        const common = { host: at.host, port: at.port, database: source.database, user };
        return args.sourceEngine === "postgres"
          ? postgresSourceConfig(
              {
                ...common,
                topicPrefix,
                tables: tableNames,
                publication,
                slot,
                heartbeatTable,
                signalTable,
                notificationTopic: names.notificationTopic,
                snapshotMode: args.snapshotMode,
                topicCreation,
              },
              sourceKnobs,
            )
          : sqlServerSourceConfig(
              {
                ...common,
                topicPrefix,
                tables: tableNames,
                kafkaBootstrap,
                schemaHistoryTopic: names.schemaHistoryTopic,
                signalTable,
                notificationTopic: names.notificationTopic,
                snapshotMode: args.snapshotMode,
                topicCreation,
                encrypt: source.encrypt,
                trustServerCertificate: source.trustServerCertificate,
              },
              sourceKnobs,
            );
      });
    const sinkConfig = pulumi
      .all([pulumi.output(fromWorkers.target), target.database, target.user])
      .apply(([at, database, user]) =>
        jdbcSinkConfig(
          {
            host: at.host,
            port: at.port,
            database,
            user,
            schema: target.schema,
            topics: tableNames.map(names.changeTopic),
            deadLetterTopic: names.deadLetterTopic,
            deadLetterReplicationFactor: args.replicationFactor,
          },
          sinkKnobs,
        ),
      );
    // The connectors start only once CDC is on and the target tables exist; the source's snapshot only
    // once a rebuild has emptied the target.
    this.sourceConnector = new KafkaConnector(
      `${name}-source`,
      {
        cluster,
        name: names.sourceConnector,
        config: sourceConfig,
        sensitiveConfig: { "database.password": reader.password },
        state: sourceKnobs.state,
        ignoreKeys: sourceKnobs.ignoreKeys,
        adoptFrom: adoption(sourceKnobs, args.sourceEngine),
        // Deleting the pipeline removes the slot or change tables its offsets point into: a connector
        // created again must start over with a snapshot, not resume from a position that is gone.
        offsetsPolicy: "reset",
        offsetsResetToken: args.rebuild,
        // A slot PostgresCdc made again, or change data SQL Server's cleanup job removed before the connector
        // read it: the source resumes at the new position, and the backfill reads what was lost.
        resumeFrom:
          this.cdc instanceof PostgresCdc
            ? this.cdc.slotCreatedAt.apply((lsn) => (lsn ? postgresResumePoint(topicPrefix, slot, lsn) : undefined))
            : this.cdc.resumeAt.apply((lsn) =>
                lsn ? sqlServerResumePoint(topicPrefix, source.database, lsn) : undefined,
              ),
      },
      { parent: this, dependsOn: [this.cdc, this.targetSchema] },
    );
    this.sinkConnector = new KafkaConnector(
      `${name}-sink`,
      {
        cluster,
        name: names.sinkConnector,
        config: sinkConfig,
        sensitiveConfig: { "connection.password": target.password },
        state: sinkKnobs.state,
        ignoreKeys: sinkKnobs.ignoreKeys,
        adoptFrom: adoption(sinkKnobs, "sink"),
      },
      { parent: this, dependsOn: [this.targetSchema] },
    );
    this.backfill = new SourceBackfill(
      `${name}-backfill`,
      {
        source: { ...source, engine: args.sourceEngine },
        target,
        signalTable,
        notifications: {
          bootstrapServers: args.kafkaBootstrapFromProgram ?? args.kafkaBootstrap,
          topic: names.notificationTopic,
        },
        tables: args.tables.map(({ schema, name, columns, primaryKey }) => ({
          schema,
          name,
          columns: columns.map((c) => ({ name: c.name, type: c.type })),
          primaryKey,
        })),
        resumeToken: this.sourceConnector.resumeFrom.apply((point) => point?.token),
        rebuildToken: args.rebuild,
      },
      { parent: this, dependsOn: [this.sourceConnector, this.sinkConnector] },
    );
    // What a caller (the stack's outputs, the operations commands) looks up: the connectors by name and
    // their live state, the topics they carry.
    this.registerOutputs({
      sourceConnectorName: names.sourceConnector,
      sinkConnectorName: names.sinkConnector,
      sourceConnectorState: this.sourceConnector.state,
      sinkConnectorState: this.sinkConnector.state,
      topics: this.sourceConnector.topics,
      deadLetterTopic: names.deadLetterTopic,
    });
  }
}

// The program: reads the stack's typed configuration and composes the components it switches on.
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, type Endpoint } from "./config";
import { BackupStorage } from "./components/backup-storage";
import { CdcPipeline } from "./components/cdc-pipeline";
import { PipelineContainers, stackBackupArgs } from "./components/pipeline-containers";
import { Preflight } from "./components/preflight";
import { pipelineNames } from "./lib/pipeline-names";

const config = loadStackConfig();

// With containers on, the services run on the stack's Docker host: the source is its SQL Server (source
// password = sa password), the target its PostgreSQL (target password = postgres password). Otherwise
// config.ts has settled every address: `source`/`target`/`kafkaConnect` as this program reaches them,
// `fromWorkers` as the connectors inside Connect do.
const { docker, secrets } = config;
const backups = config.aws && config.components.backups ? new BackupStorage("backups", config.aws) : undefined;
// The stack's own bucket (components.backups), else the existing one its config names (backups.bucket).
const backupBucketName = backups?.bucket.bucket ?? config.backups.bucket;
const names = pipelineNames(config.pipeline, config.source);
const containers =
  config.components.containers && docker && secrets.grafanaPassword
    ? new PipelineContainers("services", {
        dockerHost: docker.host,
        publicHost: config.source.host,
        targetDatabase: config.target.database,
        sqlServerPassword: secrets.sourcePassword,
        postgresPassword: secrets.targetPassword,
        grafanaPassword: secrets.grafanaPassword,
        deadLetterTopic: names.deadLetterTopic,
        // `backup schedule` in a container of its own, for the stack's bucket when it has a schedule;
        // its metrics go to the containers' Pushgateway, the one their Prometheus scrapes. No bucket keys in the
        // stack's config: the AWS SDK finds the credentials (the Docker host's instance role).
        backup: stackBackupArgs(config, pulumi.getStack(), backupBucketName),
        // `cdc-pipeline watch` on the stack's connectors, between deploys (watch.container).
        watch: config.watch.container
          ? { connectors: [names.sourceConnector, names.sinkConnector], settings: config.watch }
          : undefined,
      })
    : undefined;

// The DR stack reads the primary stack's outputs (the replica of its backups) from the state backend, not
// from the primary region: with the backend outside that region, failover works while it is down.
const primary = config.failover ? new pulumi.StackReference(config.failover.primaryStack) : undefined;

// With containers on, every address is the containers' output, known once that container is healthy, so
// whatever is given one waits for it (config.ts derives the same addresses for the operations commands).
const connectUrl = containers?.connectUrl ?? config.kafkaConnect.url;
const fromWorkers = containers
  ? {
      source: containers.fromWorkers.sqlServer,
      target: containers.fromWorkers.postgres,
      kafkaBootstrap: containers.fromWorkers.kafkaBootstrap,
    }
  : config.fromWorkers;

/** A database's connection fields as this program reaches it: nothing else of its configuration. */
function connection(
  at: pulumi.Input<Endpoint>,
  db: { database: string; user: string },
  password: pulumi.Output<string>,
) {
  const endpoint = pulumi.output(at);
  return { host: endpoint.host, port: endpoint.port, database: db.database, user: db.user, password };
}
const source = connection(containers?.sqlServer ?? config.source, config.source, secrets.sourcePassword);
const target = connection(containers?.postgres ?? config.target, config.target, secrets.targetPassword);

/** Kafka as clients outside the Connect workers reach it (the containers' external listener, or the stack's). */
const kafkaFromProgram = containers?.kafkaBootstrapServers ?? config.kafkaConnect.bootstrapServers;

const preflight = new Preflight(
  "pipeline",
  {
    connectUrl,
    sourceEngine: config.source.engine,
    source,
    target,
    extraPlugins: config.kafkaConnect.requiredPlugins,
    kafka: {
      bootstrapServers: kafkaFromProgram,
      // -1 leaves it to the brokers' default.replication.factor, which needs one broker at least.
      replicas: { count: Math.max(1, config.pipeline.replicationFactor), setBy: "pipeline.replicationFactor" },
    },
  },
  { dependsOn: containers ? [containers] : [] },
);

// Waits for the preflight checks: connectors are only deployed onto services that passed them.
const pipeline = new CdcPipeline(
  "pipeline",
  {
    connect: { url: connectUrl },
    kafkaBootstrap: fromWorkers.kafkaBootstrap,
    kafkaBootstrapFromProgram: kafkaFromProgram,
    fromWorkers,
    // The containers' SQL Server starts with only its system databases.
    createSourceDatabase: containers !== undefined,
    sourceEngine: config.source.engine,
    source: { ...source, encrypt: config.source.encrypt, trustServerCertificate: config.source.trustServerCertificate },
    target: { ...target, schema: config.target.schema, allowDestructive: config.target.allowDestructive },
    tables: config.tables,
    topicPrefix: config.pipeline.topicPrefix,
    slotName: config.pipeline.slotName,
    publicationName: config.pipeline.publicationName,
    schemaHistoryTopic: config.pipeline.schemaHistoryTopic,
    snapshotMode: config.pipeline.snapshotMode,
    replicationFactor: config.pipeline.replicationFactor,
    topicPartitions: config.pipeline.topicPartitions,
    topicRetentionMs: config.pipeline.topicRetentionMs,
    rebuild: config.pipeline.rebuild,
    connectorLogin: config.source.connectorUser
      ? { user: config.source.connectorUser, password: secrets.connectorPassword! }
      : undefined,
    connectors: config.connectors,
  },
  { dependsOn: [preflight] },
);

export const connectVersion = preflight.connect.version;
export const kafkaClusterId = preflight.connect.kafkaClusterId;
export const connectPlugins = preflight.connect.plugins;
export const sourceServerVersion = preflight.sourceServer?.serverVersion;
export const targetServerVersion = preflight.targetServer.serverVersion;
export const sourceConnectorState = pipeline.sourceConnector.state;
export const sinkConnectorState = pipeline.sinkConnector.state;
export const topics = pipeline.sourceConnector.topics;
export const backupBucket = backupBucketName;
export const backupEndpoint = config.backups.endpoint;
export const replicaBucket = backups?.replica?.bucket ?? config.backups.replicaBucket;
export const replicaEndpoint = config.backups.replicaBucket
  ? (config.backups.replicaEndpoint ?? config.backups.endpoint)
  : undefined;
export const serviceEndpoints = containers?.endpoints;
export const kafkaBootstrapServers = kafkaFromProgram;
/** On the DR stack: the primary's replica bucket, holding the backups to restore the source from. */
export const restoreFromBucket = primary?.getOutput("replicaBucket");
export const restoreFromEndpoint = primary?.getOutput("replicaEndpoint");

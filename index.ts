// The program: reads the stack's typed configuration and composes the components it switches on.
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./config";
import { BackupStorage } from "./components/backup-storage";
import { CdcPipeline } from "./components/cdc-pipeline";
import { PipelineContainers } from "./components/pipeline-containers";
import { Preflight } from "./components/preflight";
import { pipelineNames } from "./lib/pipeline-names";

const config = loadStackConfig();

// With containers on, the services run on the stack's Docker host: the source is its SQL Server (source
// password = sa password), the target its PostgreSQL (target password = postgres password). config.ts has
// settled every address: `source`/`target`/`kafkaConnect` as this program reaches them, `fromWorkers` as
// the connectors inside Connect do.
const { docker, secrets } = config;
const names = pipelineNames(config.pipeline.topicPrefix, config.source);
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
      })
    : undefined;

const backups = config.aws && config.components.backups ? new BackupStorage("backups", config.aws) : undefined;

// The DR stack reads the primary stack's outputs (the replica of its backups) from the state backend, not
// from the primary region: with the backend outside that region, failover works while it is down.
const primary = config.failover ? new pulumi.StackReference(config.failover.primaryStack) : undefined;

const preflight = new Preflight(
  "pipeline",
  {
    connectUrl: config.kafkaConnect.url,
    sourceEngine: config.source.engine,
    source: { ...config.source, password: config.secrets.sourcePassword },
    target: { ...config.target, password: config.secrets.targetPassword },
    extraPlugins: config.kafkaConnect.requiredPlugins,
  },
  { dependsOn: containers ? [containers] : [] },
);

// Waits for the preflight checks: connectors are only deployed onto services that passed them.
const pipeline = new CdcPipeline(
  "pipeline",
  {
    connect: { url: config.kafkaConnect.url },
    kafkaBootstrap: config.fromWorkers.kafkaBootstrap,
    fromWorkers: config.fromWorkers,
    // The containers' SQL Server starts with only its system databases.
    createSourceDatabase: containers !== undefined,
    sourceEngine: config.source.engine,
    source: { ...config.source, password: config.secrets.sourcePassword },
    target: { ...config.target, password: config.secrets.targetPassword },
    tables: config.tables,
    topicPrefix: config.pipeline.topicPrefix,
    snapshotMode: config.pipeline.snapshotMode,
    replicationFactor: config.pipeline.replicationFactor,
    rebuild: config.pipeline.rebuild,
    connectorLogin: config.source.connectorUser
      ? { user: config.source.connectorUser, password: config.secrets.connectorPassword! }
      : undefined,
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
export const backupBucket = backups?.bucket.bucket;
export const replicaBucket = backups?.replica?.bucket;
export const serviceEndpoints = containers?.endpoints;
/** Kafka as clients outside the Connect workers reach it (the containers' external listener, or the stack's). */
export const kafkaBootstrapServers = config.kafkaConnect.bootstrapServers;
/** On the DR stack: the primary's replica bucket, holding the backups to restore the source from. */
export const restoreFromBucket = primary?.getOutput("replicaBucket");

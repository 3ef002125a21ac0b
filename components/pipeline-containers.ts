// PipelineContainers: the pipeline's services as containers on one Docker host: SQL Server 2022 with its
// Agent (CDC needs it), PostgreSQL, Kafka in KRaft mode, Kafka Connect with the Debezium plugins, and the
// monitoring around them (JMX and Kafka exporters, a Pushgateway for backup jobs, Prometheus with the
// pipeline's alert rules, Grafana with its datasource and dashboard), and, when the stack schedules backups,
// the backup container (`cdc-pipeline backup schedule` from a job file, its image built from the project),
// which shares a volume with SQL Server for the database and log backups that BACKUP writes there; and, when
// the stack runs one, the watch container (`cdc-pipeline watch`, the same image), scraped by Prometheus.
// Images are pinned; every service container has a healthcheck and `pulumi up` waits until it is healthy.
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { Endpoint, StackSettings, WatchSettings } from "../config";
import { DEFAULT_KEY_TEMPLATE } from "../lib/backup-keys";
import {
  CONTAINER_BROKERS,
  CONTAINER_SERVICES as SVC,
  KAFKA_CONTROLLER_PORT,
  type ContainerService,
} from "../lib/container-services";
import {
  alertRules,
  GRAFANA_DASHBOARD_PROVIDER,
  grafanaDashboard,
  grafanaDatasource,
  jmxExporterConfig,
  prometheusConfig,
} from "../lib/monitoring";

/** Pinned images: a rebuild gets exactly what was tested. */
export const IMAGES = {
  sqlserver: "mcr.microsoft.com/mssql/server:2022-CU16-ubuntu-22.04",
  postgres: "postgres:15.10",
  kafka: "apache/kafka:4.3.1",
  connect: "quay.io/debezium/connect:3.6.1.Final",
  jmxExporter: "bitnami/jmx-exporter:1.0.1",
  kafkaExporter: "danielqsj/kafka-exporter:v1.9.0",
  pushgateway: "prom/pushgateway:v1.11.0",
  prometheus: "prom/prometheus:v3.1.0",
  grafana: "grafana/grafana:11.4.0",
} as const;

/**
 * The image of the backup and watch containers (the operations CLI), built from the project on the stack's
 * Docker host (never pushed). Paths are relative to the program's directory (Pulumi.yaml's), as the Docker
 * provider reads a Dockerfile's path.
 */
const PROJECT_DIR = path.relative(process.cwd(), path.resolve(__dirname, "..")) || ".";
export const OPS_IMAGE = {
  /** The project: docker/ops.Dockerfile copies what the CLI loads, the root's .dockerignore lets in no more. */
  context: PROJECT_DIR,
  dockerfile: path.join(PROJECT_DIR, "docker", "ops.Dockerfile"),
} as const;

/** Where the backup container reads its job (ops/backup.ts's BackupJob, no password in it). */
export const BACKUP_JOB_FILE = "/etc/cdc-backup/job.json";

/** What the backup container runs: the schedule of the job file, until the container stops. */
export const BACKUP_COMMAND = ["node", "ops/bin.cjs", "backup", "schedule", "--job", BACKUP_JOB_FILE];

/** Where SQL Server's BACKUP writes the .bak and .trn files the backup container uploads: one volume, in both. */
export const SQLSERVER_BACKUP_DIR = "/var/opt/mssql/cdc-backups";

/**
 * The backup container's user: SQL Server's in the mssql image (mssql, uid 10001, group 0), so that it owns
 * the files BACKUP writes into SQLSERVER_BACKUP_DIR and can read and delete them (the node image's user, 1000,
 * could do neither). docker/ops.Dockerfile creates that directory 10001:0, mode 0770, which the volume takes
 * when this container first mounts it; its app is root's, readable by any user.
 */
export const BACKUP_USER = "10001:0";

type Schedule = StackSettings["backups"]["schedule"];

/**
 * The backup container's job: the fields of ops/backup.ts's BackupJob but the source's host and port (the
 * SQL Server container's on the network) and the password (CDC_SOURCE_PASSWORD in its environment).
 */
export interface ContainerBackupArgs {
  /** The stack the backups belong to, named in object keys and manifests: pulumi.getStack(). No default. */
  readonly stack: pulumi.Input<string>;
  /** The source database and the login the job connects as (the sa password); TLS on and the container's self-signed certificate trusted unless set. */
  readonly source: pulumi.Input<{
    database: string;
    user: string;
    connectorUser?: string;
    encrypt?: boolean;
    trustServerCertificate?: boolean;
  }>;
  /** The captured tables (the config kind's CDC facts; the database kind's counts and hashes). No default. */
  readonly tables: pulumi.Input<StackSettings["tables"]>;
  /** The connectors' topic prefix, naming the connectors the config kind snapshots. No default. */
  readonly topicPrefix: pulumi.Input<string>;
  /** The backup bucket (the stack's own or an existing one). No default. */
  readonly bucket: pulumi.Input<string>;
  /** The bucket's S3-compatible endpoint as the backup container reaches it. Default: AWS. */
  readonly endpoint?: pulumi.Input<string>;
  /** Object keys (lib/backup-keys.ts). Default: DEFAULT_KEY_TEMPLATE. */
  readonly keyTemplate?: pulumi.Input<string>;
  /** Paths the files kind archives: they must exist inside the backup container. Default: none. */
  readonly files?: pulumi.Input<string[]>;
  /** A KMS key the objects are encrypted with (SSE-KMS). Default: the bucket's default encryption. */
  readonly kmsKeyId?: pulumi.Input<string>;
  /**
   * Seconds between two backups of each kind: database and log (SQL Server's BACKUP DATABASE and BACKUP LOG,
   * written into SQLSERVER_BACKUP_DIR, which the SQL Server and backup containers share, then uploaded),
   * config and files. Base (pg_basebackup, a PostgreSQL source's) is refused: a SQL Server's point-in-time
   * base is the database kind. No default.
   */
  readonly schedule: pulumi.Input<Schedule>;
  /** Minutes one SQL Server BACKUP may run (backups.sqlServer.timeoutMinutes). Default: 60. */
  readonly sqlServerTimeoutMinutes?: pulumi.Input<number>;
  /** Where each backup's metrics are pushed. Default: the Pushgateway container, which Prometheus scrapes. */
  readonly pushgateway?: pulumi.Input<string>;
}

/**
 * The backup container's job for a stack's settings and bucket: none without a bucket or a schedule. The
 * source's host and port, and backups.sqlServer's directories, are the containers' own.
 */
export function stackBackupArgs(
  settings: StackSettings,
  stack: string,
  bucket: pulumi.Input<string> | undefined,
): ContainerBackupArgs | undefined {
  const { backups, source } = settings;
  if (!bucket || Object.values(backups.schedule).every((every) => every === undefined)) return undefined;
  return {
    stack,
    source: {
      database: source.database,
      user: source.user,
      connectorUser: source.connectorUser,
      encrypt: source.encrypt,
      trustServerCertificate: source.trustServerCertificate,
    },
    tables: settings.tables,
    topicPrefix: settings.pipeline.topicPrefix,
    bucket,
    endpoint: backups.endpoint,
    keyTemplate: backups.keyTemplate,
    files: backups.files,
    kmsKeyId: backups.kmsKeyId,
    schedule: backups.schedule,
    sqlServerTimeoutMinutes: backups.sqlServer?.timeoutMinutes,
  };
}

export interface PipelineContainersArgs {
  /** Docker host URL: unix:///var/run/docker.sock, tcp://..., ssh://... (a machine's output, for example). */
  readonly dockerHost: pulumi.Input<string>;
  /** Host name under which the published ports are reached (Kafka's external listener advertises it). */
  readonly publicHost: pulumi.Input<string>;
  /** The PostgreSQL database the sink writes to, created at the first start. */
  readonly targetDatabase: string;
  /** SQL Server `sa` password (secret; SQL Server's complexity rules apply). */
  readonly sqlServerPassword: pulumi.Input<string>;
  /** PostgreSQL `postgres` password (secret). */
  readonly postgresPassword: pulumi.Input<string>;
  /** Grafana `admin` password (secret). */
  readonly grafanaPassword: pulumi.Input<string>;
  /** Topic the sink sends failed records to, watched by an alert. */
  readonly deadLetterTopic: string;
  /** Alert when the newest backup is older than this many hours. Default: 24. */
  readonly rpoHours?: number;
  /** Alert when the source connector is more than this many seconds behind. Default: 300. */
  readonly lagSeconds?: number;
  /** The backup container's job (backups with a bucket and a schedule). Default: none, and no backup container. */
  readonly backup?: ContainerBackupArgs;
  /** The backup bucket's access key id (AWS_ACCESS_KEY_ID), with backupSecretAccessKey. Default: none (an instance role, say). */
  readonly backupAccessKeyId?: pulumi.Input<string>;
  /** The backup bucket's secret access key (secret; AWS_SECRET_ACCESS_KEY), with backupAccessKeyId. Default: none. */
  readonly backupSecretAccessKey?: pulumi.Input<string>;
  /** The watch container, which restarts FAILED connectors and tasks between deploys. Default: none. */
  readonly watch?: ContainerWatchArgs;
}

/** The network's addresses the backup job uses, as the containers on it reach them. */
const inNetworkUrl = (svc: ContainerService) => `http://${svc.name}:${svc.port}`;

/**
 * The backup container's job file (ops/backup.ts's backupJobSchema, no password in it): the source is the SQL
 * Server container, whose BACKUP writes into the directory both containers mount (backups.sqlServer), and
 * Connect and the Pushgateway are reached on the network. Throws on a schedule the job cannot run: none, or
 * base, which only a PostgreSQL source has.
 */
export function containerBackupJob(job: pulumi.Unwrap<ContainerBackupArgs>): Record<string, unknown> {
  const kinds = Object.entries(job.schedule).filter(([, every]) => every !== undefined);
  if (kinds.length === 0) throw new Error("backups.schedule names no kind: the backup container has nothing to run");
  if (job.schedule.base !== undefined) {
    throw new Error(
      "backups.schedule.base: the containers' source is SQL Server, and pg_basebackup needs a PostgreSQL source; " +
        "a SQL Server's point-in-time base is the database kind: remove it",
    );
  }
  const { source } = job;
  return {
    stack: job.stack,
    source: {
      engine: "sqlserver",
      host: SVC.sqlserver.name,
      port: SVC.sqlserver.port,
      database: source.database,
      user: source.user,
      connectorUser: source.connectorUser,
      encrypt: source.encrypt ?? true,
      // The container's SQL Server has a self-signed certificate.
      trustServerCertificate: source.trustServerCertificate ?? true,
    },
    tables: job.tables,
    topicPrefix: job.topicPrefix,
    connectUrl: inNetworkUrl(SVC.connect),
    backups: {
      bucket: job.bucket,
      endpoint: job.endpoint,
      keyTemplate: job.keyTemplate ?? DEFAULT_KEY_TEMPLATE,
      files: job.files ?? [],
      kmsKeyId: job.kmsKeyId,
      pushgateway: job.pushgateway ?? inNetworkUrl(SVC.pushgateway),
      schedule: job.schedule,
      // The same volume at the same path in both containers.
      sqlServer: {
        serverDirectory: SQLSERVER_BACKUP_DIR,
        localDirectory: SQLSERVER_BACKUP_DIR,
        timeoutMinutes: job.sqlServerTimeoutMinutes ?? 60,
      },
    },
  };
}

/** The watch container: `cdc-pipeline watch` on the stack's connectors, scraped by the containers' Prometheus. */
export interface ContainerWatchArgs {
  /** The connectors it watches (the stack's source and sink). No default. */
  readonly connectors: readonly string[];
  /** Its interval, backoff and metrics port (the stack's `watch` settings). No default. */
  readonly settings: WatchSettings;
}

/** What the watch container runs: the watch of the connectors on Connect, at its network name. */
export function watchCommand(watch: ContainerWatchArgs): string[] {
  const s = watch.settings;
  return [
    ...["node", "ops/bin.cjs", "watch", "--connect-url", inNetworkUrl(SVC.connect)],
    ...["--connector", ...watch.connectors],
    ...["--interval", String(s.intervalSeconds), "--unit", String(s.unitSeconds)],
    ...["--max-restarts", String(s.maxRestarts), "--healthy", String(s.healthyUnits)],
    ...["--metrics-port", String(s.metricsPort)],
  ];
}

/** A named volume and the path it is mounted at. */
type Mount = [docker.Volume, string];

interface ServiceSpec {
  /** A pinned image to pull, or one built on the Docker host. */
  image: string | docker.Image;
  /** Host port : container port. */
  ports?: [number, number][];
  envs?: pulumi.Input<pulumi.Input<string>[]>;
  /** Named volumes and the path each is mounted at. */
  volumes?: Mount[];
  healthcheck?: string;
  command?: string[];
  /** Files written into the container before it starts. */
  files?: Record<string, pulumi.Input<string>>;
  /** An init process (Docker's) as PID 1, reaping the processes the container's command spawns. */
  init?: boolean;
  /** uid:gid the command runs as. Default: the image's user. */
  user?: string;
  dependsOn?: docker.Container[];
}

export class PipelineContainers extends pulumi.ComponentResource {
  readonly network: docker.Network;
  /** Containers by service name. */
  readonly containers: Record<string, docker.Container> = {};
  /** Where each service is reached from outside the Docker host. */
  readonly endpoints: pulumi.Output<Record<string, string>>;
  /** SQL Server as clients outside the Docker network reach it (its published port). */
  readonly sqlServer: pulumi.Output<Endpoint>;
  /** PostgreSQL as clients outside the Docker network reach it (its published port). */
  readonly postgres: pulumi.Output<Endpoint>;
  /** Kafka Connect's REST API as clients outside the Docker network reach it. */
  readonly connectUrl: pulumi.Output<string>;
  /** Kafka's external listener, as clients outside the Docker network reach it. */
  readonly kafkaBootstrapServers: pulumi.Output<string>;
  /** Where the Connect workers (containers on the network) reach SQL Server, PostgreSQL and Kafka. */
  readonly fromWorkers: {
    readonly sqlServer: pulumi.Output<Endpoint>;
    readonly postgres: pulumi.Output<Endpoint>;
    readonly kafkaBootstrap: pulumi.Output<string>;
  };
  /** The backup container's name (`docker logs` it), when the stack schedules backups. */
  readonly backupContainer?: pulumi.Output<string>;
  /** The watch container's name (`docker logs` it), when the stack runs one. */
  readonly watchContainer?: pulumi.Output<string>;

  constructor(name: string, args: PipelineContainersArgs, opts?: pulumi.ComponentResourceOptions) {
    // The bucket's keys both or neither: without them the AWS SDK's chain finds the credentials (an instance role).
    if ((args.backupAccessKeyId === undefined) !== (args.backupSecretAccessKey === undefined)) {
      throw new Error(`${name}: backupAccessKeyId and backupSecretAccessKey go together: give both or neither`);
    }
    super("cdc-pipeline:index:PipelineContainers", name, {}, opts);
    const provider = new docker.Provider(`${name}-docker`, { host: args.dockerHost }, { parent: this });
    const childOpts = { parent: this, provider };
    const publicHost = pulumi.output(args.publicHost);
    this.network = new docker.Network(`${name}-net`, { name: `${name}-net` }, childOpts);

    /** A named volume on the Docker host, named after the component: it outlives the containers mounting it. */
    const volume = (id: string) => new docker.Volume(`${name}-${id}`, { name: `${name}-${id}` }, childOpts);
    /** A service's own data. */
    const data = (svc: string, containerPath: string): Mount => [volume(`${svc}-data`), containerPath];
    // SQL Server's BACKUP writes here, the backup container reads and deletes: mounted in both, at one path.
    const sqlServerBackups: Mount[] = args.backup ? [[volume("sqlserver-backups"), SQLSERVER_BACKUP_DIR]] : [];

    const service = (svc: string, spec: ServiceSpec): docker.Container => {
      const image =
        typeof spec.image === "string"
          ? new docker.RemoteImage(`${name}-${svc}-image`, { name: spec.image, keepLocally: true }, childOpts).imageId
          : // The built image's id: a rebuild replaces the container.
            spec.image.repoDigest;
      const container = new docker.Container(
        `${name}-${svc}`,
        {
          name: `${name}-${svc}`,
          image,
          hostname: svc,
          networksAdvanced: [{ name: this.network.name, aliases: [svc] }],
          ports: (spec.ports ?? []).map(([external, internal]) => ({ external, internal })),
          envs: spec.envs,
          command: spec.command,
          volumes: (spec.volumes ?? []).map(([v, containerPath]) => ({ volumeName: v.name, containerPath })),
          uploads: Object.entries(spec.files ?? {}).map(([file, content]) => ({ file, content })),
          restart: "unless-stopped",
          init: spec.init,
          user: spec.user,
          healthcheck: spec.healthcheck
            ? {
                tests: ["CMD-SHELL", spec.healthcheck],
                interval: "10s",
                timeout: "5s",
                retries: 30,
                startPeriod: "20s",
              }
            : undefined,
          wait: spec.healthcheck !== undefined,
          waitTimeout: 300,
        },
        { ...childOpts, dependsOn: spec.dependsOn },
      );
      this.containers[svc] = container;
      return container;
    };

    const sqlserver = service("sqlserver", {
      image: IMAGES.sqlserver,
      ports: [[SVC.sqlserver.publishedPort, SVC.sqlserver.port]],
      // The Agent runs the CDC capture and cleanup jobs; without it Debezium sees no changes.
      envs: pulumi
        .all([args.sqlServerPassword])
        .apply(([pw]) => ["ACCEPT_EULA=Y", "MSSQL_AGENT_ENABLED=true", `MSSQL_SA_PASSWORD=${pw}`]),
      volumes: [data("sqlserver", "/var/opt/mssql"), ...sqlServerBackups],
      // The password comes from the container's environment, not from this definition.
      healthcheck: `/opt/mssql-tools18/bin/sqlcmd -C -S localhost -U sa -P "$MSSQL_SA_PASSWORD" -Q "SELECT 1" -b -o /dev/null`,
    });
    const postgres = service("postgres", {
      image: IMAGES.postgres,
      ports: [[SVC.postgres.publishedPort, SVC.postgres.port]],
      envs: pulumi
        .all([args.postgresPassword])
        .apply(([pw]) => [`POSTGRES_PASSWORD=${pw}`, `POSTGRES_DB=${args.targetDatabase}`]),
      volumes: [data("postgres", "/var/lib/postgresql/data")],
      healthcheck: "pg_isready -U postgres",
    });
    // INTERNAL is what the containers use (Connect, the exporter); EXTERNAL, published, what clients on
    // the Docker host's side use. Each advertises an address its own clients reach.
    const kafka = service("kafka", {
      image: IMAGES.kafka,
      ports: [[SVC.kafka.publishedPort, SVC.kafka.publishedPort]],
      envs: publicHost.apply((host) => [
        "KAFKA_NODE_ID=1",
        "KAFKA_PROCESS_ROLES=broker,controller",
        `KAFKA_LISTENERS=INTERNAL://:${SVC.kafka.port},EXTERNAL://:${SVC.kafka.publishedPort},CONTROLLER://:${KAFKA_CONTROLLER_PORT}`,
        `KAFKA_ADVERTISED_LISTENERS=INTERNAL://${SVC.kafka.name}:${SVC.kafka.port},EXTERNAL://${host}:${SVC.kafka.publishedPort}`,
        "KAFKA_INTER_BROKER_LISTENER_NAME=INTERNAL",
        "KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
        `KAFKA_CONTROLLER_QUORUM_VOTERS=1@${SVC.kafka.name}:${KAFKA_CONTROLLER_PORT}`,
        // One broker: nothing can be replicated more than once.
        `KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=${CONTAINER_BROKERS}`,
        `KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=${CONTAINER_BROKERS}`,
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=1",
        `KAFKA_DEFAULT_REPLICATION_FACTOR=${CONTAINER_BROKERS}`,
        "KAFKA_LOG_DIRS=/var/lib/kafka/data",
      ]),
      volumes: [data("kafka", "/var/lib/kafka/data")],
      healthcheck: `/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:${SVC.kafka.port} > /dev/null`,
    });
    const connect = service("connect", {
      image: IMAGES.connect,
      ports: [[SVC.connect.publishedPort, SVC.connect.port]],
      envs: [
        `BOOTSTRAP_SERVERS=${SVC.kafka.name}:${SVC.kafka.port}`,
        "GROUP_ID=cdc-connect",
        "CONFIG_STORAGE_TOPIC=_connect-configs",
        "OFFSET_STORAGE_TOPIC=_connect-offsets",
        "STATUS_STORAGE_TOPIC=_connect-status",
        `CONFIG_STORAGE_REPLICATION_FACTOR=${CONTAINER_BROKERS}`,
        `OFFSET_STORAGE_REPLICATION_FACTOR=${CONTAINER_BROKERS}`,
        `STATUS_STORAGE_REPLICATION_FACTOR=${CONTAINER_BROKERS}`,
        "JMXPORT=9012",
        "JMXHOST=connect",
      ],
      healthcheck: `curl -fs http://localhost:${SVC.connect.port}/connectors > /dev/null`,
      dependsOn: [kafka],
    });
    service("jmx-exporter", {
      image: IMAGES.jmxExporter,
      command: ["5556", "/etc/jmx-exporter/config.yml"],
      files: { "/etc/jmx-exporter/config.yml": jmxExporterConfig("connect:9012") },
      dependsOn: [connect],
    });
    service("kafka-exporter", {
      image: IMAGES.kafkaExporter,
      command: [`--kafka.server=${SVC.kafka.name}:${SVC.kafka.port}`],
      dependsOn: [kafka],
    });
    const pushgateway = service("pushgateway", {
      image: IMAGES.pushgateway,
      ports: [[SVC.pushgateway.publishedPort, SVC.pushgateway.port]],
    });
    const prometheus = service("prometheus", {
      image: IMAGES.prometheus,
      ports: [[SVC.prometheus.publishedPort, SVC.prometheus.port]],
      volumes: [data("prometheus", "/prometheus")],
      files: {
        "/etc/prometheus/prometheus.yml": prometheusConfig({
          connect: "jmx-exporter:5556",
          kafka: "kafka-exporter:9308",
          pushgateway: `${SVC.pushgateway.name}:${SVC.pushgateway.port}`,
          watch: args.watch ? `watch:${args.watch.settings.metricsPort}` : undefined,
        }),
        "/etc/prometheus/alerts.yml": alertRules({
          lagSeconds: args.lagSeconds ?? 300,
          rpoHours: args.rpoHours ?? 24,
          deadLetterTopic: args.deadLetterTopic,
        }),
      },
      healthcheck: "wget -qO- http://localhost:9090/-/ready > /dev/null",
    });
    service("grafana", {
      image: IMAGES.grafana,
      ports: [[SVC.grafana.publishedPort, SVC.grafana.port]],
      envs: pulumi.all([args.grafanaPassword]).apply(([pw]) => [`GF_SECURITY_ADMIN_PASSWORD=${pw}`]),
      volumes: [data("grafana", "/var/lib/grafana")],
      files: {
        "/etc/grafana/provisioning/datasources/prometheus.yml": grafanaDatasource(
          `http://${SVC.prometheus.name}:${SVC.prometheus.port}`,
        ),
        "/etc/grafana/provisioning/dashboards/cdc-pipeline.yml": GRAFANA_DASHBOARD_PROVIDER,
        "/var/lib/grafana/dashboards/cdc-pipeline.json": grafanaDashboard(args.deadLetterTopic),
      },
      healthcheck: "wget -qO- http://localhost:3000/api/health > /dev/null",
      dependsOn: [prometheus],
    });

    // The operations CLI's image, built by the stack's Docker host, which runs it: no registry.
    const opsImage =
      args.backup || args.watch
        ? new docker.Image(
            `${name}-ops-image`,
            {
              imageName: `${name}-ops:local`,
              build: { context: OPS_IMAGE.context, dockerfile: OPS_IMAGE.dockerfile },
              skipPush: true,
              buildOnPreview: false,
            },
            childOpts,
          )
        : undefined;
    if (args.backup) {
      const backup = service("backup", {
        image: opsImage!,
        command: BACKUP_COMMAND,
        // The only secrets it is given: the source's password and the bucket's secret key.
        envs: [
          pulumi.secret(pulumi.interpolate`CDC_SOURCE_PASSWORD=${args.sqlServerPassword}`),
          ...(args.backupAccessKeyId !== undefined && args.backupSecretAccessKey !== undefined
            ? [
                pulumi.interpolate`AWS_ACCESS_KEY_ID=${args.backupAccessKeyId}`,
                pulumi.secret(pulumi.interpolate`AWS_SECRET_ACCESS_KEY=${args.backupSecretAccessKey}`),
              ]
            : []),
        ],
        files: {
          [BACKUP_JOB_FILE]: pulumi
            .output(args.backup)
            .apply((job) => JSON.stringify(containerBackupJob(job), null, 2) + "\n"),
        },
        volumes: sqlServerBackups,
        // SQL Server's user (BACKUP_USER): the backups it writes into the shared volume are its own, and this
        // container reads and deletes them.
        user: BACKUP_USER,
        // pg_dump and tar are its children.
        init: true,
        // Its first backup of each kind is taken at once: SQL Server healthy, Connect and the Pushgateway up.
        dependsOn: [sqlserver, connect, pushgateway],
      });
      this.backupContainer = backup.name;
    }
    if (args.watch) {
      // No secret at all: it reads statuses and restarts, nothing else (it never changes a configuration).
      const watch = service("watch", {
        image: opsImage!,
        command: watchCommand(args.watch),
        dependsOn: [connect],
      });
      this.watchContainer = watch.name;
    }

    // Each address is known once its container is healthy (the container's id resolves after the wait):
    // whatever is given one waits for that container.
    const once = <T>(container: docker.Container, address: (host: string) => T): pulumi.Output<T> =>
      pulumi.all([container.id, publicHost]).apply(([, host]) => address(host));
    /** As clients outside the Docker network reach a service: its published port on the public host. */
    const published = (svc: ContainerService, host: string): Endpoint => ({ host, port: svc.publishedPort });
    /** As the containers on the network reach a service: its network name. */
    const inNetwork = (svc: ContainerService): Endpoint => ({ host: svc.name, port: svc.port });
    const hostPort = (e: Endpoint) => `${e.host}:${e.port}`;
    const httpUrl = (svc: ContainerService, host: string) => `http://${hostPort(published(svc, host))}`;
    this.sqlServer = once(sqlserver, (host) => published(SVC.sqlserver, host));
    this.postgres = once(postgres, (host) => published(SVC.postgres, host));
    this.connectUrl = once(connect, (host) => httpUrl(SVC.connect, host));
    this.kafkaBootstrapServers = once(kafka, (host) => hostPort(published(SVC.kafka, host)));
    this.fromWorkers = {
      sqlServer: once(sqlserver, () => inNetwork(SVC.sqlserver)),
      postgres: once(postgres, () => inNetwork(SVC.postgres)),
      kafkaBootstrap: once(kafka, () => hostPort(inNetwork(SVC.kafka))),
    };
    this.endpoints = pulumi
      .all([this.sqlServer, this.postgres, this.kafkaBootstrapServers, this.connectUrl, publicHost])
      .apply(([sqlServer, postgres, kafka, connect, host]): Record<string, string> => ({
        sqlServer: hostPort(sqlServer),
        postgres: hostPort(postgres),
        kafka,
        connect,
        prometheus: httpUrl(SVC.prometheus, host),
        grafana: httpUrl(SVC.grafana, host),
        pushgateway: httpUrl(SVC.pushgateway, host),
      }));
    this.registerOutputs({
      endpoints: this.endpoints,
      sqlServer: this.sqlServer,
      postgres: this.postgres,
      connectUrl: this.connectUrl,
      kafkaBootstrapServers: this.kafkaBootstrapServers,
      fromWorkers: this.fromWorkers,
      backupContainer: this.backupContainer,
      watchContainer: this.watchContainer,
    });
  }
}

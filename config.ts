// The stack configuration: one schema for every key of every stack, read and validated before any
// resource is declared. Errors name the key, what is allowed and the `pulumi config set` that fixes it.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  CONTAINER_BROKERS,
  CONTAINER_SERVICES,
  dockerPublicHost,
  type ContainerService,
} from "./lib/container-services";
import { DEFAULT_KEY_TEMPLATE, keyTemplateSchema } from "./lib/backup-keys";
import { pathText, valueAt } from "./lib/input-check";
import { DESIRED_STATES } from "./lib/connector-api";
import { DERIVED_KEYS, SINK_ENUM_SETTINGS, SOURCE_REQUIRED_ENTRIES } from "./lib/debezium-configs";
import { pipelineNames } from "./lib/pipeline-names";
import { DEFAULT_RESTART_POLICY } from "./lib/restart-policy";
import { pgTypeName } from "./lib/target-schema";

export const PROJECT = "cdc-pipeline";

const port = z.number().int().min(1).max(65535);
const identifier = z.string().min(1).max(63);

/** A database server the pipeline reads from or writes to. Its password is a separate secret key. */
const databaseSchema = z.strictObject({
  host: z.string().min(1),
  port,
  database: identifier,
  user: identifier,
});

/** A source database, located (as the operations commands' --source-url gives one). */
export const sourceSchema = databaseSchema.extend({
  engine: z.enum(["sqlserver", "postgres"]),
  /** A least-privilege login the pipeline creates for the source connector (password: connectorPassword). */
  connectorUser: identifier.optional(),
  /** SQL Server: encrypt the connection (TLS). Default: true. */
  encrypt: z.boolean().optional(),
  /** SQL Server: accept a certificate no trusted CA signed. Default: true with containers, else false. */
  trustServerCertificate: z.boolean().optional(),
});

export const targetSchema = databaseSchema.extend({
  schema: identifier.default("public"),
  /** Let `pulumi up` drop target columns or narrow their types (data lost). Default: false: such a change is refused. */
  allowDestructive: z.boolean().optional(),
});

// In a stack, host and port are given only for a server outside the stack (containers off); with containers
// on they are the containers' addresses, derived below.
const stackSourceSchema = sourceSchema.partial({ host: true, port: true });
const stackTargetSchema = targetSchema.partial({ host: true, port: true });

const kafkaConnectSchema = z.strictObject({
  /** The Connect REST API as the program reaches it (containers off). */
  url: z.url({ protocol: /^https?$/ }).optional(),
  /** Kafka as the Connect workers reach it (containers off). */
  bootstrapServers: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, "host:port[,host:port...]")
    .optional(),
  requiredPlugins: z.array(z.string().min(1)).optional(),
});

const columnSchema = z.strictObject({
  name: identifier,
  type: pgTypeName,
  nullable: z.boolean().optional(),
});

/** A SQL Server source table's CDC options (sys.sp_cdc_enable_table); its captured columns are its declared ones. */
const sqlServerTableSchema = z.strictObject({
  /** The gating role a reader of the change data must hold. Default: none. */
  gatingRole: identifier.optional(),
  /** Create the net-changes function (needs the primary key). Default: false. */
  netChanges: z.boolean().optional(),
  /** The filegroup of the change table. Default: the database's default filegroup. */
  filegroup: identifier.optional(),
});

export const tableSchema = z
  .strictObject({
    schema: identifier,
    name: identifier,
    columns: z.array(columnSchema).min(1),
    primaryKey: z.array(identifier).min(1),
    sqlServer: sqlServerTableSchema.optional(),
  })
  .refine((t) => t.primaryKey.every((key) => t.columns.some((c) => c.name === key)), {
    path: ["primaryKey"],
    message: "must name columns of the table",
  });

const pipelineSchema = z.strictObject({
  topicPrefix: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "letters, digits, '_', '.' or '-'"),
  snapshotMode: z.enum(["initial", "no_data", "when_needed", "always", "initial_only"]).default("initial"),
  /**
   * Of the topics the connectors create (the change topics, through Connect's topic.creation.*, and the
   * dead-letter topic). Default: the containers' broker count, else the brokers' default.replication.factor.
   */
  replicationFactor: z.number().int().min(1).max(5).optional(),
  /** Partitions of each change topic the source creates. Default: the brokers' num.partitions. */
  topicPartitions: z.number().int().min(1).max(1000).optional(),
  /** retention.ms of each change topic the source creates; -1 keeps every change. Default: the brokers' log.retention. */
  topicRetentionMs: z
    .number()
    .int()
    .refine((ms) => ms === -1 || ms >= 1, "must be -1 (keep every change) or at least 1 ms")
    .optional(),
  rebuild: z.string().min(1).optional(),
  /**
   * A PostgreSQL source's replication slot, publication, and a SQL Server source's schema history topic, when
   * not derived from topicPrefix: those of hand-made connectors the stack adopts. Default: derived.
   */
  slotName: z
    .string()
    .regex(/^[a-z0-9_]{1,63}$/, "1 to 63 lowercase letters, digits or '_' (PostgreSQL's rule for slot names)")
    .optional(),
  publicationName: z.string().min(1).max(63).optional(),
  schemaHistoryTopic: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, "1 to 249 letters, digits, '.', '_' or '-' (Kafka's rule for topic names)")
    .optional(),
});

/** The operator's knobs of one connector (stack config `connectors.source`, `connectors.sink`). */
const connectorKnobsSchema = z.strictObject({
  /** Held by `pulumi up`: a declared pause is no drift, a pause by hand is. Default: running. */
  state: z.enum(DESIRED_STATES).default("running"),
  /** tasks.max. Default: 1. */
  tasksMax: z.number().int().min(1).max(64).default(1),
  /** Extra connector settings over the project's defaults; the plugin's /config/validate checks them at preview. */
  settings: z
    .record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()], "must be a string, number or boolean"))
    .default({}),
  /** Config keys something else manages, left out of diffs and the drift check. Default: none. */
  ignoreKeys: z.array(z.string().min(1)).default([]),
  /**
   * A hand-made connector on the same cluster to adopt when the stack first creates this one: its committed
   * offsets are taken over (no new snapshot), then it is deleted. Default: none.
   */
  adoptFrom: z
    .string()
    .regex(/^[^\u0000-\u001f/\\]{1,249}$/, "a connector name: 1 to 249 characters, no control characters, '/' or '\\'")
    .optional(),
});
export type ConnectorKnobsSettings = z.infer<typeof connectorKnobsSchema>;
const noKnobs = (): ConnectorKnobsSettings => ({ state: "running", tasksMax: 1, settings: {}, ignoreKeys: [] });

const componentsSchema = z.strictObject({
  containers: z.boolean().default(false),
  backups: z.boolean().default(false),
});

const dockerSchema = z.strictObject({
  host: z.string().regex(/^(unix|tcp|ssh):\/\/.+/, "a Docker host URL such as unix:///var/run/docker.sock"),
  /** Host name of the published ports, from where `pulumi up` runs. Default: the host of docker.host (localhost for unix://). */
  publicHost: z.string().min(1).optional(),
});

const days = z.number().int().min(1).max(36500);
/** The seed runbooks' promise: a backup of each kind at most a day old. */
export const DEFAULT_RPO_HOURS = { database: 24, files: 24, config: 24 } as const;
const awsSchema = z
  .strictObject({
    primaryRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as us-east-1"),
    /** Where the backups are replicated to. None: no replica (a DR stack whose other region has failed). */
    drRegion: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as us-west-2")
      .optional(),
    lifecycle: z
      .strictObject({
        infrequentAccessAfterDays: days.optional(),
        glacierAfterDays: days.optional(),
        expireAfterDays: days.optional(),
        noncurrentExpireAfterDays: days.optional(),
        abortIncompleteUploadAfterDays: days.optional(),
      })
      .optional(),
    /** Recovery point objectives: the newest backup of each kind must be younger than this many hours. */
    rpoHours: z
      .strictObject({
        database: z.number().positive().default(DEFAULT_RPO_HOURS.database),
        files: z.number().positive().default(DEFAULT_RPO_HOURS.files),
        config: z.number().positive().default(DEFAULT_RPO_HOURS.config),
      })
      .default(DEFAULT_RPO_HOURS),
  })
  .refine((aws) => aws.primaryRegion !== aws.drRegion, {
    path: ["drRegion"],
    message: "must differ from primaryRegion",
  });

const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name (3-63 of a-z, 0-9, '.', '-')");
const seconds = z.number().int().min(1);
/** What the backup command writes and where; the bucket itself only for a stack without components.backups. */
export const backupsSchema = z.strictObject({
  /** An existing bucket (components.backups off: the stack does not create one). */
  bucket: bucketName.optional(),
  /** An S3-compatible endpoint of `bucket` (path-style addressing). Default: AWS. */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** The bucket's DR copy, which a DR stack restores from. */
  replicaBucket: bucketName.optional(),
  /** The endpoint of `replicaBucket`. Default: `endpoint`. */
  replicaEndpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** Object keys. Fields: <kind> <stack> <yyyy> <mm> <dd> <hh> <mi> <ss> <time> <ext>. */
  keyTemplate: keyTemplateSchema.default(DEFAULT_KEY_TEMPLATE),
  /** Paths the `files` kind archives (a Connect worker's config and plugin directories). */
  files: z.array(z.string().regex(/^\//, "an absolute path")).default([]),
  /** A KMS key the objects are encrypted with (SSE-KMS). Default: the bucket's default encryption. */
  kmsKeyId: z.string().min(1).optional(),
  /** A Pushgateway the backup command reports its last success, size and duration to. */
  pushgateway: z.url({ protocol: /^https?$/ }).optional(),
  /** `cdc-pipeline backup schedule`: seconds between two backups of each kind; a kind left out is not scheduled. */
  schedule: z
    .strictObject({
      database: seconds.optional(),
      config: seconds.optional(),
      files: seconds.optional(),
      /** Point in time: a physical base backup every so many seconds (pg_basebackup). */
      base: seconds.optional(),
      /** Point in time: WAL streamed all along (pg_receivewal), shipped to the bucket every so many seconds. */
      log: seconds.optional(),
    })
    .default({}),
  /**
   * A SQL Server source's database backup: BACKUP DATABASE writes it into `serverDirectory` on the server's host,
   * which this host reads as `localDirectory` (a shared volume; default: the same path), and uploads.
   */
  sqlServer: z
    .strictObject({
      serverDirectory: z.string().min(1),
      localDirectory: z.string().regex(/^\//, "an absolute path").optional(),
      /** Minutes one BACKUP may run. Default: 60. */
      timeoutMinutes: z.number().positive().default(60),
    })
    .optional(),
  /** Point in time: the archived WAL must be younger than this many minutes (checked by `rpo`). Default: 15. */
  logRpoMinutes: z.number().positive().default(15),
  /** Where `backup schedule` spools the WAL it receives before shipping it. Default: a directory under /tmp. */
  walSpool: z.string().regex(/^\//, "an absolute path").optional(),
});

/**
 * `cdc-pipeline watch`: how often it looks, its restart backoff (Strimzi's: at once, then 2, 6, 12, 20 ...
 * units), and whether the containers component runs it.
 */
export const watchSchema = z.strictObject({
  /** Seconds between two status checks. Default: 30. */
  intervalSeconds: z.number().positive().default(30),
  /** The backoff's time unit, in seconds. Default: 60 (Strimzi's minute). */
  unitSeconds: z
    .number()
    .positive()
    .default(DEFAULT_RESTART_POLICY.unitMs / 1000),
  /** Restarts in a row before the watcher gives up on a connector. Default: 7 (Strimzi's). */
  maxRestarts: z.number().int().min(1).default(DEFAULT_RESTART_POLICY.maxRestarts),
  /** Units a connector must stay healthy for its restart count to go back to zero. Default: 10. */
  healthyUnits: z.number().positive().default(DEFAULT_RESTART_POLICY.healthyUnits),
  /** The port of its GET /metrics. Default: 9404. */
  metricsPort: z.number().int().min(1).max(65535).default(9404),
  /** With components.containers: run it in a container of its own, scraped by the containers' Prometheus. Default: true. */
  container: z.boolean().default(true),
});
export type WatchSettings = z.infer<typeof watchSchema>;

/**
 * The DR stack names the primary stack it takes over from, fully qualified: <org>/cdc-pipeline/<stack> on
 * Pulumi Cloud, organization/cdc-pipeline/<stack> on a DIY backend (S3, file).
 */
const failoverSchema = z.strictObject({
  primaryStack: z
    .string()
    .regex(
      new RegExp(`^[\\w.-]+/${PROJECT}/[\\w.-]+$`),
      `<org>/${PROJECT}/<stack>: acme/${PROJECT}/dev on Pulumi Cloud, organization/${PROJECT}/dev on an S3 or file backend`,
    ),
});

/** Every structured key of the project namespace (`cdc-pipeline:<key>`). */
const stackSchema = z
  .strictObject({
    components: componentsSchema.default({ containers: false, backups: false }),
    kafkaConnect: kafkaConnectSchema.default({}),
    pipeline: pipelineSchema,
    tables: z.array(tableSchema).min(1),
    source: stackSourceSchema,
    target: stackTargetSchema,
    docker: dockerSchema.optional(),
    aws: awsSchema.optional(),
    backups: backupsSchema.default({ keyTemplate: DEFAULT_KEY_TEMPLATE, files: [], schedule: {}, logRpoMinutes: 15 }),
    failover: failoverSchema.optional(),
    watch: watchSchema.default(() => watchSchema.parse({})),
    connectors: z
      .strictObject({ source: connectorKnobsSchema.default(noKnobs), sink: connectorKnobsSchema.default(noKnobs) })
      .default(() => ({ source: noKnobs(), sink: noKnobs() })),
  })
  .superRefine((cfg, ctx) => {
    const problem = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", path, message });
    if (cfg.connectors.source.tasksMax !== 1) {
      problem(
        ["connectors", "source", "tasksMax"],
        "must be 1: Debezium's source connector reads one database in one task (scale the sink instead)",
      );
    }
    // A setting the project derives from the rest of the stack: the stack key that sets it instead.
    const kinds = { source: cfg.source.engine, sink: "sink" } as const;
    for (const connector of ["source", "sink"] as const) {
      const derived: Readonly<Record<string, string>> = DERIVED_KEYS[kinds[connector]];
      cfg.connectors[connector].ignoreKeys.forEach((key, i) => {
        if (Object.hasOwn(derived, key)) {
          problem(
            ["connectors", connector, "ignoreKeys", i],
            `'${key}' is derived from ${derived[key]}: it cannot be ignored`,
          );
        }
      });
      for (const [key, value] of Object.entries(cfg.connectors[connector].settings)) {
        const from = Object.hasOwn(derived, key) ? derived[key] : undefined;
        const allowed = connector === "sink" && Object.hasOwn(SINK_ENUM_SETTINGS, key) ? SINK_ENUM_SETTINGS[key] : [];
        if (allowed.length > 0 && !allowed.includes(String(value).toLowerCase())) {
          problem(
            ["connectors", connector, "settings", key],
            `must be one of ${allowed.join(", ")}, got '${String(value)}' (the sink's task would fail on it at start)`,
          );
        }
        // Signals and notifications are how resync, repair and backfills drive the source.
        const required =
          connector === "source" && Object.hasOwn(SOURCE_REQUIRED_ENTRIES, key)
            ? SOURCE_REQUIRED_ENTRIES[key]
            : undefined;
        if (
          required &&
          !String(value)
            .split(",")
            .map((entry) => entry.trim())
            .includes(required)
        ) {
          problem(
            ["connectors", connector, "settings", key],
            `must keep '${required}' in its list, got '${String(value)}' (resync, repair and backfills use it)`,
          );
        }
        if (from !== undefined) {
          problem(
            ["connectors", connector, "settings", key],
            `is derived from ${from}: set that instead, and remove it`,
          );
        } else if (/password/i.test(key)) {
          problem(
            ["connectors", connector, "settings", key],
            "looks like a secret, which stack settings would hold in plaintext: remove it",
          );
        }
      }
    }
    if (cfg.components.containers && !cfg.docker) problem(["docker"], "is required when components.containers is true");
    if (cfg.components.backups && !cfg.aws) problem(["aws"], "is required when components.backups is true");
    // A bucket is the stack's own (components.backups) or an existing one the stack names: never both.
    for (const key of ["bucket", "endpoint", "replicaBucket", "replicaEndpoint"] as const) {
      if (cfg.components.backups && cfg.backups[key] !== undefined) {
        problem(["backups", key], "is the stack's own bucket when components.backups is true: remove it");
      }
    }
    for (const key of ["replicaBucket", "replicaEndpoint"] as const) {
      if (cfg.backups[key] !== undefined && cfg.backups.bucket === undefined && !cfg.components.backups) {
        problem(["backups", key], "needs backups.bucket (the bucket it is a copy of)");
      }
    }
    // Every address is either the containers' (derived) or an external endpoint the stack names: never both,
    // never neither.
    const endpoints: [string, string, unknown][] = [
      ["source", "host", cfg.source.host],
      ["source", "port", cfg.source.port],
      ["target", "host", cfg.target.host],
      ["target", "port", cfg.target.port],
      ["kafkaConnect", "url", cfg.kafkaConnect.url],
      ["kafkaConnect", "bootstrapServers", cfg.kafkaConnect.bootstrapServers],
    ];
    for (const [part, key, value] of endpoints) {
      if (cfg.components.containers && value !== undefined) {
        problem([part, key], "is the containers' address when components.containers is true: remove it");
      } else if (!cfg.components.containers && value === undefined) {
        problem([part, key], "is required when components.containers is false (the service is outside the stack)");
      }
    }
    if (cfg.components.containers && cfg.source.engine !== "sqlserver") {
      problem(
        ["source", "engine"],
        'must be "sqlserver" when components.containers is true (the containers run SQL Server)',
      );
    }
    const rf = cfg.pipeline.replicationFactor;
    if (cfg.components.containers && rf !== undefined && rf > CONTAINER_BROKERS) {
      problem(
        ["pipeline", "replicationFactor"],
        `must be at most ${CONTAINER_BROKERS}: the containers run ${CONTAINER_BROKERS} Kafka broker(s); remove it to derive it`,
      );
    }
    const names = pipelineNames(cfg.pipeline, cfg.source);
    const own = { source: names.sourceConnector, sink: names.sinkConnector };
    for (const connector of ["source", "sink"] as const) {
      if (cfg.connectors[connector].adoptFrom === own[connector]) {
        problem(
          ["connectors", connector, "adoptFrom"],
          `is this stack's own connector '${own[connector]}': name the hand-made connector to take over, or remove it`,
        );
      }
    }
    if (cfg.source.engine === "postgres") {
      // PostgreSQL truncates longer identifiers and refuses longer slot names.
      const derived = {
        "heartbeat table": names.heartbeatTable,
        "signalling table": names.signalTable,
        slot: names.slot,
        publication: names.publication,
      };
      for (const [what, name] of Object.entries(derived)) {
        if (name.length > 63) {
          problem(
            ["pipeline", "topicPrefix"],
            `is too long for a PostgreSQL source: the ${what} '${name}' would have ${name.length} characters, PostgreSQL allows 63`,
          );
        }
      }
      if (cfg.pipeline.schemaHistoryTopic !== undefined) {
        problem(["pipeline", "schemaHistoryTopic"], "applies only to a SQL Server source: remove it");
      }
      cfg.tables.forEach((t, i) => {
        if (t.sqlServer) problem(["tables", i, "sqlServer"], "applies only to a SQL Server source: remove it");
      });
      for (const key of ["encrypt", "trustServerCertificate"] as const) {
        if (cfg.source[key] !== undefined) problem(["source", key], "applies only to a SQL Server source: remove it");
      }
    } else {
      for (const key of ["slotName", "publicationName"] as const) {
        if (cfg.pipeline[key] !== undefined)
          problem(["pipeline", key], "applies only to a PostgreSQL source: remove it");
      }
      // SQL Server refuses longer identifiers.
      if (names.signalTable.length > 128) {
        problem(
          ["pipeline", "topicPrefix"],
          `is too long for a SQL Server source: the signalling table '${names.signalTable}' would have ${names.signalTable.length} characters, SQL Server allows 128`,
        );
      }
    }
    if (
      cfg.source.engine === "sqlserver" &&
      cfg.source.encrypt === false &&
      cfg.source.trustServerCertificate === true
    ) {
      problem(
        ["source", "trustServerCertificate"],
        "contradicts source.encrypt false (no TLS, so no certificate to trust): remove one of them",
      );
    }
  });

/**
 * Keys that must be set with `pulumi config set --secret`: grafanaPassword only with containers,
 * connectorPassword only with source.connectorUser.
 */
export const SECRET_KEYS = ["sourcePassword", "targetPassword", "grafanaPassword", "connectorPassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
const requiredSecrets = (raw: Record<string, unknown>): SecretKey[] => [
  "sourcePassword",
  "targetPassword",
  ...((raw.components as { containers?: unknown } | undefined)?.containers === true
    ? ["grafanaPassword" as const]
    : []),
  ...((raw.source as { connectorUser?: unknown } | undefined)?.connectorUser !== undefined
    ? ["connectorPassword" as const]
    : []),
];

type ParsedStack = z.infer<typeof stackSchema>;

/** A server's address as one client reaches it. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** The validated configuration, every address and default settled. */
export type StackSettings = Omit<ParsedStack, "source" | "target" | "kafkaConnect" | "pipeline"> & {
  /** The source as the program and the operations commands reach it, with its TLS settled (SQL Server). */
  readonly source: z.infer<typeof sourceSchema> & {
    /** SQL Server: TLS on (false for a PostgreSQL source, whose connections this project makes plain). */
    readonly encrypt: boolean;
    /** SQL Server: accept a certificate no trusted CA signed (false for PostgreSQL). */
    readonly trustServerCertificate: boolean;
  };
  /** The target as the program and the operations commands reach it. */
  readonly target: z.infer<typeof targetSchema>;
  /** Connect's REST API and Kafka as the program reaches them. */
  readonly kafkaConnect: ParsedStack["kafkaConnect"] & { readonly url: string; readonly bootstrapServers: string };
  readonly pipeline: ParsedStack["pipeline"] & {
    /** Of the change and dead-letter topics; -1 leaves it to the brokers' default.replication.factor. */
    readonly replicationFactor: number;
    /** Of each change topic; -1 leaves it to the brokers' num.partitions. */
    readonly topicPartitions: number;
  };
  /** Where the Connect workers reach the databases and Kafka: what the connectors are configured with. */
  readonly fromWorkers: { readonly source: Endpoint; readonly target: Endpoint; readonly kafkaBootstrap: string };
};

/**
 * Settles every address: with containers on, the program reaches the containers' published ports on the
 * Docker host and the connectors (inside Connect's container) their network names; with containers off,
 * both use the external endpoints the stack names.
 */
function settle(cfg: ParsedStack): StackSettings {
  const docker = cfg.components.containers ? cfg.docker : undefined;
  const publicHost = docker ? (docker.publicHost ?? dockerPublicHost(docker.host)) : "";
  const published = (svc: ContainerService): Endpoint => ({ host: publicHost, port: svc.publishedPort });
  const internal = (svc: ContainerService): Endpoint => ({ host: svc.name, port: svc.port });
  const hostPort = (e: Endpoint) => `${e.host}:${e.port}`;
  const c = CONTAINER_SERVICES;
  const source = docker ? published(c.sqlserver) : { host: cfg.source.host!, port: cfg.source.port! };
  const target = docker ? published(c.postgres) : { host: cfg.target.host!, port: cfg.target.port! };
  const sqlServer = cfg.source.engine === "sqlserver";
  const encrypt = sqlServer && (cfg.source.encrypt ?? true);
  return {
    ...cfg,
    source: {
      ...cfg.source,
      ...source,
      encrypt,
      // The containers' SQL Server has a self-signed certificate.
      trustServerCertificate: encrypt && (cfg.source.trustServerCertificate ?? docker !== undefined),
    },
    target: { ...cfg.target, ...target },
    kafkaConnect: {
      ...cfg.kafkaConnect,
      url: docker ? `http://${hostPort(published(c.connect))}` : cfg.kafkaConnect.url!,
      bootstrapServers: docker ? hostPort(published(c.kafka)) : cfg.kafkaConnect.bootstrapServers!,
    },
    pipeline: {
      ...cfg.pipeline,
      replicationFactor: cfg.pipeline.replicationFactor ?? (docker ? CONTAINER_BROKERS : -1),
      topicPartitions: cfg.pipeline.topicPartitions ?? -1,
    },
    fromWorkers: docker
      ? { source: internal(c.sqlserver), target: internal(c.postgres), kafkaBootstrap: hostPort(internal(c.kafka)) }
      : { source, target, kafkaBootstrap: cfg.kafkaConnect.bootstrapServers! },
  };
}

export type StackConfig = StackSettings & {
  readonly secrets: Record<"sourcePassword" | "targetPassword", pulumi.Output<string>> & {
    /** Present whenever components.containers is on (validated). */
    readonly grafanaPassword?: pulumi.Output<string>;
    /** Present whenever source.connectorUser is set (validated). */
    readonly connectorPassword?: pulumi.Output<string>;
  };
};

/** Example values shown in the fix command of an error, by top-level key. */
const EXAMPLES: Record<string, string> = {
  components: `'{"containers":false,"backups":false}'`,
  kafkaConnect: `'{"url":"http://127.0.0.1:8083","bootstrapServers":"kafka:9092"}'`,
  pipeline: `'{"topicPrefix":"inventory"}'`,
  tables: `'[{"schema":"dbo","name":"customers","columns":[{"name":"id","type":"integer"}],"primaryKey":["id"]}]'`,
  source: `'{"engine":"sqlserver","host":"mssql","port":1433,"database":"inventory","user":"cdc_reader"}'`,
  target: `'{"host":"postgres","port":5432,"database":"warehouse","user":"cdc_writer"}'`,
  docker: `'{"host":"unix:///var/run/docker.sock"}'`,
  aws: `'{"primaryRegion":"us-east-1","drRegion":"us-west-2"}'`,
  backups: `'{"bucket":"acme-cdc-backups","replicaBucket":"acme-cdc-backups-dr"}'`,
  failover: `'{"primaryStack":"acme/cdc-pipeline/dev"}'`,
  connectors: `'{"sink":{"state":"paused","tasksMax":2,"settings":{"batch.size":500}}}'`,
};

export class StackConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration of stack '${stack}':\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>, stack: string): string {
  const path = issue.path.map(String);
  const key = `${PROJECT}:${pathText(issue.path)}`;
  const top = path[0] ?? "";
  const missing = issue.code === "invalid_type" && valueAt(raw, path) === undefined;
  const what = missing ? "is missing" : issue.message;
  let fix: string;
  if (issue.code === "unrecognized_keys") {
    fix = `pulumi config rm --stack ${stack} --path ${pathText([...issue.path, issue.keys[0]])}`;
  } else if (path.length <= 1 || typeof raw[top] !== "object") {
    fix = `pulumi config set --stack ${stack} --path ${top} ${EXAMPLES[top] ?? "<value>"}`;
  } else {
    fix = `pulumi config set --stack ${stack} --path '${pathText(issue.path)}' <value>`;
  }
  return `${key} ${what} (fix: ${fix})`;
}

/**
 * Validates the raw structured configuration (as `pulumi config --json` holds it) and the presence of
 * the secret keys. Pure: no Pulumi runtime needed, so it is unit-tested directly.
 */
export function parseStackSettings(
  raw: Record<string, unknown>,
  stack: string,
  presentSecrets: ReadonlySet<string>,
): StackSettings {
  const problems: string[] = [];
  const result = stackSchema.safeParse(raw);
  if (!result.success) {
    problems.push(...result.error.issues.map((issue) => describeIssue(issue, raw, stack)));
  }
  for (const key of requiredSecrets(raw)) {
    if (!presentSecrets.has(key)) {
      problems.push(
        `${PROJECT}:${key} is missing: a secret password (fix: pulumi config set --stack ${stack} --secret ${key})`,
      );
    }
  }
  if (problems.length > 0 || !result.success) {
    throw new StackConfigError(stack, problems);
  }
  return settle(result.data);
}

/** Reads the current stack's configuration through the Pulumi runtime; throws StackConfigError. */
export function loadStackConfig(): StackConfig {
  const config = new pulumi.Config(PROJECT);
  const stack = pulumi.getStack();
  const raw: Record<string, unknown> = {};
  for (const key of [
    "components",
    "kafkaConnect",
    "pipeline",
    "tables",
    "source",
    "target",
    "docker",
    "aws",
    "backups",
    "failover",
    "connectors",
  ]) {
    try {
      const value = config.getObject<unknown>(key);
      if (value !== undefined) raw[key] = value;
    } catch {
      // getObject throws on text that is not JSON; the schema then reports the key as invalid.
      raw[key] = config.get(key);
    }
  }
  const secrets: Partial<Record<SecretKey, pulumi.Output<string>>> = {};
  for (const key of SECRET_KEYS) {
    const value = config.getSecret(key);
    if (value !== undefined) secrets[key] = value;
  }
  const settings = parseStackSettings(raw, stack, new Set(Object.keys(secrets)));
  return { ...settings, secrets: secrets as StackConfig["secrets"] };
}

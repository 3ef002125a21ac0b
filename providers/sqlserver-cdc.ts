// SqlServerCdc: change data capture on one SQL Server database, declared: CDC enabled on the database and
// on each listed table and Debezium's signalling table, the capture and cleanup jobs' settings, SQL Server
// Agent checked, optionally a least-privilege login for the connector. Refresh reads it all back, so CDC
// disabled by hand or lost in a RESTORE without KEEP_CDC is drift that `pulumi up` repairs; so is the
// connector's position left behind by the cleanup job, which `up` answers with a new resume point (resumeAt)
// that the source connector resumes at and SourceBackfill backfills from. The T-SQL, bringing a database to the inputs
// and reading back what the state records, is in lib/sqlserver-cdc-sql.ts, the capture instances' online
// rotation in lib/capture-instances.ts, the connector's position in lib/connector-lsn.ts.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import type { CaptureInstance, CdcTable } from "../lib/capture-instances";
import { connectConnectionSchema, type ConnectConnection } from "../lib/connect-rest";
import { readConnectorLsn } from "../lib/connector-lsn";
import { containsUnknown, checkInputs } from "../lib/input-check";
import { installedProvider } from "../lib/installed-provider";
import {
  convergeSqlServerCdc,
  createDatabaseIfMissing,
  disableSqlServerCdc,
  maxCdcLsn,
  readSqlServerCdcFacts,
  sameDeclaredValue,
  sqlServerCdcDrift,
  type SqlServerCdcFacts,
} from "../lib/sqlserver-cdc-sql";
import { sqlServerConnectionSchema, sqlServerName, withSqlServer } from "../lib/sqlserver";
import { versionedProvider } from "../lib/versioned-provider";

const tableSchema = z.object({
  schema: sqlServerName,
  name: sqlServerName,
  captureInstance: z
    .string("may hold only letters, digits and _ (at most 100)")
    .regex(/^[A-Za-z0-9_]{1,100}$/, "may hold only letters, digits and _ (at most 100)")
    .optional(),
  role: sqlServerName.nullable().optional(),
  supportsNetChanges: z.boolean("must be true or false").optional(),
  capturedColumns: z.array(sqlServerName, "must be a list of column names").optional(),
  filegroup: sqlServerName.optional(),
}) satisfies z.ZodType<CdcTable>;

/** A whole number from 1 to `max`, with the message naming what is allowed. */
const positiveInt = (message: string, max = Number.MAX_SAFE_INTEGER) =>
  z.int(message).min(1, message).max(max, message);

const inputsSchema = sqlServerConnectionSchema.extend({
  /** Create the database when it is missing (a fresh server, such as the containers'). */
  createDatabase: z.boolean("must be true or false").default(false),
  /** The tables to capture. */
  tables: z.array(tableSchema, "must list at least one table").min(1, "must list at least one table"),
  /** Capture job: seconds between scans of the log. */
  pollingIntervalSeconds: positiveInt("must be a whole number of seconds above 0").default(5),
  /** Capture job: transactions per scan. */
  maxTransactions: positiveInt("must be a whole number above 0").default(500),
  /** Cleanup job: minutes change data is kept (read by the connector or not). */
  retentionMinutes: positiveInt("must be from 1 to 52494800 minutes (SQL Server's limit)", 52_494_800).default(4320),
  /** When SQL Server Agent is not running (no capture, "No maximum LSN recorded"): fail or warn. */
  agentNotRunning: z
    .enum(["fail", "warn"], { error: (issue) => `must be "fail" or "warn", got '${String(issue.input)}'` })
    .default("fail"),
  /** Disable CDC on delete. */
  disableOnDelete: z.boolean("must be true or false").default(true),
  /** Login (and database user) to create for the connector: SELECT on the tables, gating roles; "" for none. */
  connectorLogin: z
    .string("must be a login name")
    .max(128, "must be a login name of at most 128 characters")
    .default(""),
  /** Its password (secret). */
  connectorPassword: z.string("must be a string (set it as a secret)").default(""),
  /**
   * The Debezium source connector reading this database: an old capture instance is retired only once its
   * committed position has passed the new one's start (Debezium's online schema update). Without it, an old
   * capture instance is kept, with a warning, until it is disabled by hand.
   */
  connector: z
    .object({
      cluster: connectConnectionSchema,
      name: z.string("must name the source connector").min(1, "must name the source connector"),
    })
    .optional(),
  /** Debezium's signalling table: made when missing, captured, INSERT granted to the connector login. */
  signalTable: z.object({ schema: sqlServerName, name: sqlServerName }).optional(),
});

/**
 * A connector login needs its password. Judged in a pass of its own: zod skips an object's refinements
 * once any property fails, and this problem should be reported with every other one.
 */
const connectorLoginSchema = z
  .object({ connectorLogin: z.unknown().optional(), connectorPassword: z.unknown().optional() })
  .refine(
    ({ connectorLogin, connectorPassword }) =>
      !connectorLogin ||
      containsUnknown(connectorLogin) ||
      (typeof connectorPassword === "string" && connectorPassword !== ""),
    { path: ["connectorPassword"], message: "is required with connectorLogin" },
  );

export type SqlServerCdcInputs = z.infer<typeof inputsSchema>;

export type SqlServerCdcState = SqlServerCdcInputs &
  SqlServerCdcFacts & {
    /**
     * Where the source connector resumes since its position was lost (the database's maximum LSN then, 20 hex
     * digits); null while it never was. KafkaConnector's resumeFrom writes it to the connector's offsets.
     */
    resumeAt: string | null;
  };

/**
 * The database brought to the inputs (created first, on master, when asked) and read back, as the state.
 * When the connector's position is lost, it is to resume at the database's newest change (`resumeAt`), and
 * the backfill reads the tables for what the cleanup job removed; `resumeAt` otherwise stays as it was.
 */
async function converged(inputs: SqlServerCdcInputs, resumeAt: string | null): Promise<SqlServerCdcState> {
  if (inputs.createDatabase) {
    await withSqlServer({ ...inputs, database: "master" }, (client) =>
      createDatabaseIfMissing(client, inputs.database),
    );
  }
  const connectorLsn = await readConnectorLsn(inputs.connector, inputs.database);
  return withSqlServer(inputs, async (client) => {
    const facts = await convergeSqlServerCdc(client, inputs, connectorLsn);
    const newest = facts.positionLost ? await maxCdcLsn(client) : null;
    return newest ? { ...inputs, ...facts, positionLost: false, resumeAt: newest } : { ...inputs, ...facts, resumeAt };
  });
}

/** Another server or database is another resource. */
const REPLACING_KEYS = ["host", "port", "database"] as const;
/**
 * Changed in place: the credentials among them (password, connectorPassword, the connector's cluster) are
 * stored with the state as secrets, so a rotated one reaches the state and read and delete use it.
 */
const IN_PLACE_KEYS = [
  "user",
  "password",
  "encrypt",
  "trustServerCertificate",
  "createDatabase",
  "tables",
  "agentNotRunning",
  "disableOnDelete",
  "connectorLogin",
  "connectorPassword",
  "connector",
  "signalTable",
] as const;

/** The implementation, loaded by the serialized shim below from the installed project. */
export const sqlServerCdcProvider = versionedProvider<SqlServerCdcInputs, SqlServerCdcState>(
  "SqlServerCdc",
  { version: 1, migrations: {} },
  {
    async check(_olds, news) {
      const checked = checkInputs(inputsSchema, news as Record<string, unknown>);
      const login = checkInputs(connectorLoginSchema, news as Record<string, unknown>);
      const failed = new Set(checked.failures.map((f) => f.property));
      return {
        inputs: checked.inputs,
        failures: [...checked.failures, ...login.failures.filter((f) => !failed.has(f.property))],
      };
    },
    async diff(_id, olds: SqlServerCdcState, news: SqlServerCdcInputs) {
      // olds holds the database as last read (refresh updates it): CDC disabled by hand is drift.
      const replaces = REPLACING_KEYS.filter((key) => olds[key] !== news[key]);
      const changes =
        replaces.length > 0 ||
        IN_PLACE_KEYS.some((key) => !sameDeclaredValue(olds[key], news[key])) ||
        sqlServerCdcDrift(olds, news).length > 0;
      return { changes, replaces: [...replaces] };
    },
    async create(inputs: SqlServerCdcInputs) {
      return { id: `${inputs.host}:${inputs.port}/${inputs.database}`, outs: await converged(inputs, null) };
    },
    async read(id, props?: SqlServerCdcState) {
      if (!props) throw new Error(`SqlServerCdc ${id}: cannot read without its recorded connection`);
      const connectorLsn = await readConnectorLsn(props.connector, props.database);
      const warnings = props.warnings ?? [];
      const facts = await withSqlServer(props, (client) =>
        readSqlServerCdcFacts(client, props, connectorLsn, warnings),
      );
      return { id, props: { ...props, ...facts, resumeAt: props.resumeAt ?? null } };
    },
    async update(_id, olds: SqlServerCdcState, news: SqlServerCdcInputs) {
      // Tables no longer declared stop being captured.
      const dropped = olds.tables.filter((o) => !news.tables.some((n) => n.schema === o.schema && n.name === o.name));
      if (dropped.length > 0) {
        await withSqlServer(news, (client) => disableSqlServerCdc(client, { tables: dropped, connectorLogin: "" }));
      }
      return { outs: await converged(news, olds.resumeAt ?? null) };
    },
    async delete(_id, props: SqlServerCdcState) {
      if (!props.disableOnDelete) return;
      await withSqlServer(props, (client) => disableSqlServerCdc(client, props));
    },
  },
);

export interface SqlServerCdcArgs {
  /** Host of the SQL Server. */
  readonly host: pulumi.Input<string>;
  /** Its port. Default: 1433. */
  readonly port?: pulumi.Input<number>;
  /** The database to capture. */
  readonly database: pulumi.Input<string>;
  /** A login that may enable CDC (sysadmin for the database step, db_owner for tables). */
  readonly user: pulumi.Input<string>;
  /** Its password (secret). */
  readonly password: pulumi.Input<string>;
  /** Encrypt the connection. Default: true. */
  readonly encrypt?: pulumi.Input<boolean>;
  /** Accept a self-signed server certificate. Default: false. */
  readonly trustServerCertificate?: pulumi.Input<boolean>;
  /** Create the database when it is missing. Default: false. */
  readonly createDatabase?: pulumi.Input<boolean>;
  /** Tables to capture. */
  readonly tables: pulumi.Input<CdcTable[]>;
  /** Capture job polling interval in seconds. Default: 5. */
  readonly pollingIntervalSeconds?: pulumi.Input<number>;
  /** Capture job transactions per scan. Default: 500. */
  readonly maxTransactions?: pulumi.Input<number>;
  /** Cleanup job retention in minutes. Default: 4320. */
  readonly retentionMinutes?: pulumi.Input<number>;
  /** "fail" or "warn" when SQL Server Agent is not running. Default: "fail". */
  readonly agentNotRunning?: pulumi.Input<"fail" | "warn">;
  /** Disable CDC on delete. Default: true. */
  readonly disableOnDelete?: pulumi.Input<boolean>;
  /** Login to create for the connector. Default: none. */
  readonly connectorLogin?: pulumi.Input<string>;
  /** Its password (secret). */
  readonly connectorPassword?: pulumi.Input<string>;
  /**
   * The source connector reading the database (its cluster and name): an old capture instance is retired
   * once the connector has passed its successor's start. Default: none (old instances are kept).
   */
  readonly connector?: pulumi.Input<{ cluster: pulumi.Input<ConnectConnection>; name: pulumi.Input<string> }>;
  /** Debezium's signalling table, made and captured (signal.data.collection). Default: none. */
  readonly signalTable?: pulumi.Input<{ schema: string; name: string }>;
}

const sqlServerCdcShim = installedProvider("SqlServerCdc");

export class SqlServerCdc extends pulumi.dynamic.Resource {
  declare readonly cdcEnabled: pulumi.Output<boolean>;
  declare readonly agentRunning: pulumi.Output<boolean>;
  declare readonly captureInstances: pulumi.Output<CaptureInstance[]>;
  /** Old capture instances the connector no longer reads (the next `up` retires them). */
  declare readonly retirableInstances: pulumi.Output<string[]>;
  /** Where the source connector resumes since its position was lost (20 hex digits); null while it never was. */
  declare readonly resumeAt: pulumi.Output<string | null>;
  declare readonly warnings: pulumi.Output<string[]>;
  /** The provider version that last wrote this resource's state. */
  declare readonly providerVersion: pulumi.Output<number>;

  constructor(name: string, args: SqlServerCdcArgs, opts?: pulumi.CustomResourceOptions) {
    const outputs = {
      cdcEnabled: undefined,
      agentRunning: undefined,
      captureInstances: undefined,
      jobs: undefined,
      connectorLoginExists: undefined,
      connectorLsn: undefined,
      retirableInstances: undefined,
      positionLost: undefined,
      resumeAt: undefined,
      warnings: undefined,
      providerVersion: undefined,
    };
    super(
      sqlServerCdcShim,
      name,
      {
        ...outputs,
        port: 1433,
        ...args,
        password: pulumi.secret(args.password),
        connectorPassword: pulumi.secret(args.connectorPassword ?? ""),
        // The cluster may carry credentials.
        connector: args.connector === undefined ? undefined : pulumi.secret(args.connector),
      },
      { ...opts, additionalSecretOutputs: ["password", "connectorPassword", "connector"] },
      "cdc-pipeline",
      "SqlServerCdc",
    );
  }
}

// SourceBackfill: rows already in the source brought to the target while streaming goes on, by Debezium
// incremental snapshots (lib/incremental-snapshot), on `up`:
// - a table newly added to the captured tables: its existing rows, which streaming alone never sends;
// - every table, once the source connector resumed at a new position (`resumeToken` changed): a PostgreSQL
//   slot dropped by hand and made again by PostgresCdc, or SQL Server change data removed by the cleanup job
//   before the connector read it (SqlServerCdc's resumeAt). The snapshot brings back the changes lost between
//   the two positions; then the target's rows the source no longer has (deletes lost in the gap) are deleted
//   (lib/repair). The target is never emptied.
// It follows the source connector (and the sink), so a signal is sent only to a running connector that
// captures the table.
import { isDeepStrictEqual } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { dataCollection, runIncrementalSnapshot, type SnapshotRun } from "../lib/incremental-snapshot";
import { checkInputs, containsUnknown } from "../lib/input-check";
import { installedProvider } from "../lib/installed-provider";
import { pgName, postgresConnectionSchema, withClient, type PostgresConnectionArgs } from "../lib/postgres";
import { withSourceSide, type ReconciledTable } from "../lib/reconcile";
import { deleteExtraRows } from "../lib/repair";
import { sourceDatabaseSchema } from "../lib/source-database";
import { versionedProvider } from "../lib/versioned-provider";

const tableSchema = z.object({
  schema: z.string("must be a schema name").min(1, "must be a schema name"),
  name: z.string("must be a table name").min(1, "must be a table name"),
  columns: z.array(z.object({ name: pgName, type: z.string("must be a type") }), "must be a list of columns").min(1),
  primaryKey: z.array(pgName, "must be a list of column names").min(1, "must name at least one column"),
});

const inputsSchema = z.object({
  /** The source database, as this program reaches it: the signals are written there. */
  source: sourceDatabaseSchema,
  /** The target database and the schema of its tables: a heal deletes the rows the source does not have. */
  target: postgresConnectionSchema.extend({ schema: pgName }),
  /** The signalling table (PostgresCdc or SqlServerCdc makes it). */
  signalTable: z.object({
    schema: z.string("must be a schema name").min(1, "must be a schema name"),
    name: z.string("must be a table name").min(1, "must be a table name"),
  }),
  /** The Kafka cluster as this program reaches it, and the topic the source connector's notifications go to. */
  notifications: z.object({
    bootstrapServers: z.string("must be a comma-separated list of host:port").min(1, "must not be empty"),
    topic: z.string("must be a topic name").min(1, "must not be empty"),
  }),
  /** The captured tables, with the columns and key reconcile compares them by. */
  tables: z.array(tableSchema, "must list at least one table").min(1, "must list at least one table"),
  /** Changes when the source connector resumed at a new position: every table is then backfilled. */
  resumeToken: z.string("must be a string").optional(),
  /** The pipeline's rebuild token: a rebuild snapshots every table afresh, so nothing is backfilled then. */
  rebuildToken: z.string("must be a string").optional(),
  /** How long to wait for the connector's notification that a snapshot finished. Default: 3600 s. */
  timeoutSeconds: z.int("must be a whole number of seconds").min(1).max(86_400).default(3600),
});

export type SourceBackfillInputs = z.infer<typeof inputsSchema>;
const INPUT_KEYS = Object.keys(inputsSchema.shape) as (keyof SourceBackfillInputs)[];

/** What the last backfill did. */
export interface LastBackfill {
  /** The tables it read, as "schema.name". */
  tables: string[];
  /** Rows the snapshot read, by table. */
  rows: Record<string, number>;
  /** Rows deleted from the target by a heal, by table. */
  deleted: Record<string, number>;
  /** Why: "new tables" or "resumed at a new position". */
  reason: string;
}

export type SourceBackfillState = SourceBackfillInputs & { lastBackfill?: LastBackfill };

const nameOf = (t: { schema: string; name: string }) => `${t.schema}.${t.name}`;

/** The tables reconcile compares: the same name on both sides, in the target's schema there. */
const reconciled = (inputs: SourceBackfillInputs): ReconciledTable[] =>
  inputs.tables.map((t) => ({
    source: { schema: t.schema, name: t.name },
    target: { schema: inputs.target.schema, name: t.name },
    columns: t.columns,
    primaryKey: t.primaryKey,
  }));

/** Snapshots the tables through the signalling table and waits for the connector to say it is done. */
function snapshot(
  inputs: SourceBackfillInputs,
  tables: readonly { schema: string; name: string }[],
): Promise<SnapshotRun> {
  return runIncrementalSnapshot(
    { source: inputs.source, table: inputs.signalTable },
    inputs.notifications,
    { dataCollections: tables.map((t) => dataCollection(inputs.source, t)) },
    inputs.timeoutSeconds * 1000,
  );
}

/** A new token asks for a heal; one removed does not. */
const healRequested = (recorded?: string, declared?: string) => declared !== undefined && recorded !== declared;

/** The implementation, loaded by the serialized shim below from the installed project. */
export const sourceBackfillProvider = versionedProvider<SourceBackfillInputs, SourceBackfillState>(
  "SourceBackfill",
  { version: 1, migrations: {} },
  {
    async check(_olds, news) {
      return checkInputs(inputsSchema, news as Record<string, unknown>);
    },
    async diff(_id, olds: SourceBackfillState, news: SourceBackfillInputs) {
      // The inputs alone: the state also holds the last backfill and the provider's version. At preview the
      // resume token is unknown whenever the source connector is updated (or never had one): that is no
      // change of its own, and `up` diffs again with the token known, so a heal still runs then.
      const compared = INPUT_KEYS.filter((key) => !(key === "resumeToken" && containsUnknown(news.resumeToken)));
      const changed = compared.some((key) => !isDeepStrictEqual(olds[key], news[key]));
      return { changes: changed };
    },
    async create(inputs: SourceBackfillInputs) {
      // A new pipeline: the source connector's initial snapshot reads every table (snapshot.mode says).
      return {
        id: `${inputs.source.engine}://${inputs.source.host}:${inputs.source.port}/${inputs.source.database}`,
        outs: inputs,
      };
    },
    async read(id, props?: SourceBackfillState) {
      if (!props) throw new Error(`SourceBackfill ${id}: cannot read without its recorded inputs`);
      return { id, props };
    },
    async update(_id, olds: SourceBackfillState, news: SourceBackfillInputs) {
      const rebuilt = healRequested(olds.rebuildToken, news.rebuildToken);
      const heal = !rebuilt && healRequested(olds.resumeToken, news.resumeToken);
      const known = new Set(olds.tables.map(nameOf));
      const toRead = rebuilt ? [] : heal ? news.tables : news.tables.filter((t) => !known.has(nameOf(t)));
      if (toRead.length === 0) return { outs: { ...news, lastBackfill: olds.lastBackfill } };
      const run = await snapshot(news, toRead);
      const deleted = heal
        ? await withSourceSide(news.source, (source) =>
            withClient(news.target, (target) => deleteExtraRows(source, target, reconciled(news))),
          )
        : {};
      const lastBackfill: LastBackfill = {
        tables: toRead.map(nameOf),
        rows: Object.fromEntries(run.scans.map((s) => [s.dataCollection, s.rows])),
        deleted: Object.fromEntries(Object.entries(deleted).map(([table, keys]) => [table, keys.length])),
        reason: heal ? "resumed at a new position" : "new tables",
      };
      return { outs: { ...news, lastBackfill } };
    },
    async delete() {
      // Nothing of its own on any server: the signals it sent are the connector's history.
    },
  },
);

/** A table to backfill, with what reconcile compares it by. */
export interface BackfillTable {
  readonly schema: string;
  readonly name: string;
  readonly columns: { readonly name: string; readonly type: string }[];
  readonly primaryKey: string[];
}

/** The source database as this program reaches it: its engine, and SQL Server's TLS settings. */
export type BackfillSourceArgs = PostgresConnectionArgs & {
  /** The source's engine. */
  readonly engine: "postgres" | "sqlserver";
  /** SQL Server: encrypt the connection. Default: true. */
  readonly encrypt?: pulumi.Input<boolean>;
  /** SQL Server: accept a self-signed certificate. Default: false. */
  readonly trustServerCertificate?: pulumi.Input<boolean>;
};

export interface SourceBackfillArgs {
  /** The source database as this program reaches it (the signals are written there). */
  readonly source: BackfillSourceArgs;
  /** The target database as this program reaches it, and the schema its tables are in. */
  readonly target: PostgresConnectionArgs & { readonly schema: string };
  /** The signalling table PostgresCdc or SqlServerCdc makes. */
  readonly signalTable: pulumi.Input<{ schema: string; name: string }>;
  /** The Kafka cluster as this program reaches it, and the source connector's notification topic. */
  readonly notifications: pulumi.Input<{ bootstrapServers: pulumi.Input<string>; topic: string }>;
  /** The captured tables. */
  readonly tables: BackfillTable[];
  /** The source connector's resume token (KafkaConnector's resumeFrom): a new one backfills every table. Default: none. */
  readonly resumeToken?: pulumi.Input<string | undefined>;
  /** The pipeline's rebuild token: a new one backfills nothing (the rebuild's snapshot reads every table). Default: none. */
  readonly rebuildToken?: pulumi.Input<string | undefined>;
  /** How long to wait for a snapshot to finish. Default: 3600 s. */
  readonly timeoutSeconds?: pulumi.Input<number>;
}

const sourceBackfillShim = installedProvider("SourceBackfill");

export class SourceBackfill extends pulumi.dynamic.Resource {
  /** What the last backfill did: the tables, the rows read, the rows a heal deleted, and why. */
  declare readonly lastBackfill: pulumi.Output<LastBackfill | undefined>;
  /** The provider version that last wrote this resource's state. */
  declare readonly providerVersion: pulumi.Output<number>;

  constructor(name: string, args: SourceBackfillArgs, opts?: pulumi.CustomResourceOptions) {
    const connection = (db: PostgresConnectionArgs) => ({
      host: db.host,
      port: db.port,
      database: db.database,
      user: db.user,
      password: pulumi.secret(db.password),
    });
    super(
      sourceBackfillShim,
      name,
      {
        lastBackfill: undefined,
        providerVersion: undefined,
        ...args,
        source: {
          ...connection(args.source),
          engine: args.source.engine,
          // Only SQL Server's connection has TLS settings.
          ...(args.source.engine === "sqlserver"
            ? { encrypt: args.source.encrypt, trustServerCertificate: args.source.trustServerCertificate }
            : {}),
        },
        target: { ...connection(args.target), schema: args.target.schema },
      },
      { ...opts, additionalSecretOutputs: ["source", "target"] },
      "cdc-pipeline",
      "SourceBackfill",
    );
  }
}

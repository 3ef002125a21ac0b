// PostgresSchema: the target tables the JDBC sink writes to (schema, columns, types, primary keys,
// indexes), created and evolved idempotently. New tables, columns and indexes are added; a destructive
// change (dropping a column, changing a type or a primary key) is refused unless allowed. Refresh reads
// the tables back, so a change made by hand is drift.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { checkInputs } from "../lib/input-check";
import { installedProvider } from "../lib/installed-provider";
import { pgName, postgresConnectionSchema, withClient, type PostgresConnectionArgs } from "../lib/postgres";
import {
  applyDeclaredTables,
  dropTargetTables,
  planIsEmpty,
  planSchema,
  readLiveTables,
  tableSpecSchema,
  type LiveTable,
  type TableSpec,
} from "../lib/target-schema";
import { versionedProvider } from "../lib/versioned-provider";

// The component declares its tables' columns in this shape.
export type { ColumnSpec } from "../lib/target-schema";

const TABLES_REASON = "must declare at least one table";

const inputsSchema = postgresConnectionSchema.extend({
  /** Schema the tables live in (created when missing). */
  schema: pgName,
  /** The tables. */
  tables: z.array(tableSpecSchema, TABLES_REASON).min(1, TABLES_REASON),
  /** Apply destructive changes (drop a column, change a type or a primary key). Default: false. */
  allowDestructive: z.boolean("must be true or false").default(false),
  /** Drop the tables on delete. Default: false: the data stays. */
  dropTablesOnDelete: z.boolean("must be true or false").default(false),
  /** Set at create, or changed: the tables are emptied, for a snapshot of a restored source to refill them. */
  rebuildToken: z.string("must be a string").optional(),
});

export type PostgresSchemaInputs = z.infer<typeof inputsSchema>;
export interface PostgresSchemaState extends PostgresSchemaInputs {
  /** The declared tables as they are live; a table missing live is absent here. */
  live: LiveTable[];
}

/** The inputs with the declared tables as the database has them now. */
async function readDeclaredTables(inputs: PostgresSchemaInputs): Promise<PostgresSchemaState> {
  const live = await withClient(inputs, (client) =>
    readLiveTables(
      client,
      inputs.schema,
      inputs.tables.map((t) => t.name),
    ),
  );
  return { ...inputs, live };
}

const REPLACE_KEYS = ["host", "port", "database", "schema"] as const;
/** Changed in place; the password is stored as a secret and compared, so a new one reaches the state. */
const IN_PLACE_KEYS = ["user", "password", "allowDestructive", "dropTablesOnDelete", "rebuildToken"] as const;

/** The implementation, loaded by the serialized shim below from the installed project. */
export const postgresSchemaProvider = versionedProvider<PostgresSchemaInputs, PostgresSchemaState>(
  "PostgresSchema",
  { version: 1, migrations: {} },
  {
    async check(_olds, news) {
      return checkInputs(inputsSchema, news as Record<string, unknown>);
    },
    async diff(_id, olds: PostgresSchemaState, news: PostgresSchemaInputs) {
      const replaces = REPLACE_KEYS.filter((key) => olds[key] !== news[key]);
      const plan = planSchema(news.schema, news.tables, olds.live, olds.tables);
      const changes = replaces.length > 0 || !planIsEmpty(plan) || IN_PLACE_KEYS.some((k) => olds[k] !== news[k]);
      return { changes, replaces: [...replaces] };
    },
    async create(inputs: PostgresSchemaInputs) {
      const empty = inputs.rebuildToken !== undefined;
      await withClient(inputs, (client) => applyDeclaredTables(client, inputs, [], empty));
      return {
        id: `${inputs.host}:${inputs.port}/${inputs.database}/${inputs.schema}`,
        outs: await readDeclaredTables(inputs),
      };
    },
    async read(id, props?: PostgresSchemaState) {
      if (!props) throw new Error(`PostgresSchema ${id}: cannot read without its recorded connection`);
      return { id, props: await readDeclaredTables(props) };
    },
    async update(_id, olds: PostgresSchemaState, news: PostgresSchemaInputs) {
      const rebuild = news.rebuildToken !== undefined && news.rebuildToken !== olds.rebuildToken;
      await withClient(news, (client) => applyDeclaredTables(client, news, olds.tables, rebuild));
      return { outs: await readDeclaredTables(news) };
    },
    async delete(_id, props: PostgresSchemaState) {
      if (!props.dropTablesOnDelete) return;
      await withClient(props, (client) => dropTargetTables(client, props.schema, props.tables));
    },
  },
);

export interface PostgresSchemaArgs extends PostgresConnectionArgs {
  /** Schema the tables live in (created when missing). */
  readonly schema: pulumi.Input<string>;
  /** The tables. */
  readonly tables: pulumi.Input<TableSpec[]>;
  /** Apply destructive changes. Default: false. */
  readonly allowDestructive?: pulumi.Input<boolean>;
  /** Drop the tables on delete. Default: false (the data stays). */
  readonly dropTablesOnDelete?: pulumi.Input<boolean>;
  /** Set at create, or changed: the tables are emptied for a snapshot to refill them. Default: none. */
  readonly rebuildToken?: pulumi.Input<string>;
}

const postgresSchemaShim = installedProvider("PostgresSchema");

export class PostgresSchema extends pulumi.dynamic.Resource {
  declare readonly live: pulumi.Output<LiveTable[]>;
  /** The provider version that last wrote this resource's state. */
  declare readonly providerVersion: pulumi.Output<number>;

  constructor(name: string, args: PostgresSchemaArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      postgresSchemaShim,
      name,
      { live: undefined, providerVersion: undefined, ...args, password: pulumi.secret(args.password) },
      { ...opts, additionalSecretOutputs: ["password"] },
      "cdc-pipeline",
      "PostgresSchema",
    );
  }
}

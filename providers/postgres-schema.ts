// PostgresSchema: the target tables the JDBC sink writes to (schema, columns, types, primary keys,
// indexes), created and evolved idempotently. New tables, columns and indexes are added; a destructive
// change (dropping a column, changing a type or a primary key) is refused unless allowed. Refresh reads
// the tables back, so a change made by hand is drift.
import * as pulumi from "@pulumi/pulumi";
import type { Client } from "pg";
import {
  connectionFailures,
  ident,
  isPgName,
  qualified,
  withClient,
  type PostgresConnection,
  type PostgresConnectionArgs,
} from "../lib/postgres";

export interface ColumnSpec {
  name: string;
  /** A PostgreSQL type; the usual aliases (int, varchar(n), timestamptz...) are normalised. */
  type: string;
  /** Default: true. */
  nullable?: boolean;
}

export interface IndexSpec {
  name: string;
  columns: string[];
  /** Default: false. */
  unique?: boolean;
}

export interface TableSpec {
  name: string;
  columns: ColumnSpec[];
  primaryKey: string[];
  /** Default: none. */
  indexes?: IndexSpec[];
}

export interface PostgresSchemaInputs extends PostgresConnection {
  schema: string;
  tables: TableSpec[];
  /** Apply destructive changes (drop a column, change a type or a primary key). Default: false. */
  allowDestructive: boolean;
  /** Drop the tables on delete. Default: false: the data stays. */
  dropTablesOnDelete: boolean;
  /** Set at create, or changed: the tables are emptied, for a snapshot of a restored source to refill them. */
  rebuildToken?: string;
}

/** A table as the database has it, in the same shape as TableSpec with types as PostgreSQL prints them. */
export interface LiveTable {
  name: string;
  columns: { name: string; type: string; nullable: boolean }[];
  primaryKey: string[];
  /** Name of the primary key constraint, when there is one. */
  primaryKeyName?: string;
  indexes: { name: string; columns: string[]; unique: boolean }[];
}

export interface PostgresSchemaState extends PostgresSchemaInputs {
  /** The declared tables as they are live; a table missing live is absent here. */
  live: LiveTable[];
}

const ALIASES: [RegExp, string][] = [
  [/^int4?$|^integer$/, "integer"],
  [/^int8$|^bigint$/, "bigint"],
  [/^int2$|^smallint$/, "smallint"],
  [/^bool$/, "boolean"],
  [/^float8$|^double$/, "double precision"],
  [/^float4$/, "real"],
  [/^varchar\b/, "character varying"],
  [/^char\b/, "character"],
  [/^decimal\b/, "numeric"],
  [/^timestamptz\b/, "timestamp with time zone"],
  [/^timestamp(\(\d+\))?$/, "timestamp$1 without time zone"],
  [/^timetz\b/, "time with time zone"],
  [/^time(\(\d+\))?$/, "time$1 without time zone"],
];

/** A type as PostgreSQL's format_type prints it, for the common aliases. */
export function normaliseType(type: string): string {
  let t = type
    .trim()
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/\s*\(\s*/g, "(")
    .replace(/\s*,\s*/g, ",");
  for (const [pattern, replacement] of ALIASES) {
    if (pattern.test(t)) {
      t = t.replace(pattern, replacement);
      break;
    }
  }
  return t;
}

/** Reads the declared tables of a schema. */
export async function readTables(client: Pick<Client, "query">, schema: string, names: string[]): Promise<LiveTable[]> {
  const cols = await client.query<{ table: string; name: string; type: string; nullable: boolean }>(
    `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            NOT a.attnotnull AS nullable
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p')
     ORDER BY c.relname, a.attnum`,
    [schema, names],
  );
  const idx = await client.query<{ table: string; name: string; primary: boolean; unique: boolean; columns: string[] }>(
    `SELECT t.relname AS table, ic.relname AS name, i.indisprimary AS primary, i.indisunique AS unique,
            array_agg(a.attname::text ORDER BY k.ord) AS columns
     FROM pg_index i
     JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
     JOIN pg_class ic ON ic.oid = i.indexrelid
     CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
     WHERE n.nspname = $1 AND t.relname = ANY($2::text[])
     GROUP BY t.relname, ic.relname, i.indisprimary, i.indisunique
     ORDER BY t.relname, ic.relname`,
    [schema, names],
  );
  const tables = new Map<string, LiveTable>();
  for (const col of cols.rows) {
    const table = tables.get(col.table) ?? { name: col.table, columns: [], primaryKey: [], indexes: [] };
    table.columns.push({ name: col.name, type: col.type, nullable: col.nullable });
    tables.set(col.table, table);
  }
  for (const index of idx.rows) {
    const table = tables.get(index.table);
    if (!table) continue;
    if (index.primary) {
      table.primaryKey = index.columns;
      table.primaryKeyName = index.name;
    } else table.indexes.push({ name: index.name, columns: index.columns, unique: index.unique });
  }
  return names.filter((n) => tables.has(n)).map((n) => tables.get(n)!);
}

export interface SchemaPlan {
  /** Statements that add: schema, tables, columns, indexes, nullability. */
  additive: string[];
  /** Destructive changes, each described for a person, with their statements. */
  destructive: { what: string; sql: string[] }[];
}

/**
 * What turns the live tables into the declared ones. `previous` is what was declared before: only a
 * column that was declared and no longer is gets dropped (columns added by others, for example by the
 * sink's schema evolution, are left alone).
 */
export function planSchema(
  schema: string,
  declared: TableSpec[],
  live: LiveTable[],
  previous: TableSpec[] = [],
): SchemaPlan {
  const plan: SchemaPlan = { additive: [`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`], destructive: [] };
  for (const table of declared) {
    const name = qualified(schema, table.name);
    const now = live.find((t) => t.name === table.name);
    if (!now) {
      const columns = table.columns.map((c) => `${ident(c.name)} ${c.type}${c.nullable === false ? " NOT NULL" : ""}`);
      const pk = table.primaryKey.length ? [`PRIMARY KEY (${table.primaryKey.map(ident).join(", ")})`] : [];
      plan.additive.push(`CREATE TABLE ${name} (${[...columns, ...pk].join(", ")})`);
    } else {
      for (const col of table.columns) {
        const have = now.columns.find((c) => c.name === col.name);
        if (!have) {
          plan.additive.push(
            `ALTER TABLE ${name} ADD COLUMN ${ident(col.name)} ${col.type}${col.nullable === false ? " NOT NULL" : ""}`,
          );
          continue;
        }
        if (normaliseType(col.type) !== normaliseType(have.type)) {
          plan.destructive.push({
            what: `${schema}.${table.name}: change the type of '${col.name}' from ${have.type} to ${normaliseType(col.type)}`,
            sql: [`ALTER TABLE ${name} ALTER COLUMN ${ident(col.name)} TYPE ${col.type}`],
          });
        }
        const nullable = col.nullable !== false;
        if (nullable !== have.nullable) {
          plan.additive.push(
            `ALTER TABLE ${name} ALTER COLUMN ${ident(col.name)} ${nullable ? "DROP" : "SET"} NOT NULL`,
          );
        }
      }
      const before = previous.find((t) => t.name === table.name);
      for (const gone of before?.columns ?? []) {
        if (!table.columns.some((c) => c.name === gone.name) && now.columns.some((c) => c.name === gone.name)) {
          plan.destructive.push({
            what: `${schema}.${table.name}: drop column '${gone.name}'`,
            sql: [`ALTER TABLE ${name} DROP COLUMN ${ident(gone.name)}`],
          });
        }
      }
      if (JSON.stringify(now.primaryKey) !== JSON.stringify(table.primaryKey)) {
        const sql = [
          ...(now.primaryKeyName ? [`ALTER TABLE ${name} DROP CONSTRAINT ${ident(now.primaryKeyName)}`] : []),
          ...(table.primaryKey.length
            ? [`ALTER TABLE ${name} ADD PRIMARY KEY (${table.primaryKey.map(ident).join(", ")})`]
            : []),
        ];
        plan.destructive.push({
          what: `${schema}.${table.name}: change the primary key from (${now.primaryKey.join(", ")}) to (${table.primaryKey.join(", ")})`,
          sql,
        });
      }
    }
    for (const index of table.indexes ?? []) {
      const have = now?.indexes.find((i) => i.name === index.name);
      const create = `CREATE ${index.unique ? "UNIQUE " : ""}INDEX ${ident(index.name)} ON ${name} (${index.columns.map(ident).join(", ")})`;
      if (!have) plan.additive.push(create);
      else if (JSON.stringify(have.columns) !== JSON.stringify(index.columns) || have.unique !== !!index.unique) {
        plan.additive.push(`DROP INDEX ${qualified(schema, index.name)}`, create);
      }
    }
  }
  return plan;
}

/** A plan with nothing but the idempotent CREATE SCHEMA IF NOT EXISTS changes nothing. */
export const planIsEmpty = (plan: SchemaPlan): boolean => plan.additive.length === 1 && plan.destructive.length === 0;

/** The refusal of a plan's destructive changes, or undefined when there are none or they are allowed. */
export function refusal(plan: SchemaPlan, allowDestructive: boolean): string | undefined {
  if (allowDestructive || plan.destructive.length === 0) return undefined;
  return `destructive changes refused (set allowDestructive: true to apply them): ${plan.destructive.map((d) => d.what).join("; ")}`;
}

/** Applies a plan in one transaction: all of it or nothing. */
export async function applyPlan(client: Pick<Client, "query">, plan: SchemaPlan): Promise<void> {
  await client.query("BEGIN");
  try {
    for (const sql of [...plan.additive, ...plan.destructive.flatMap((d) => d.sql)]) await client.query(sql);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  }
}

export function checkSchemaInputs(news: Partial<PostgresSchemaInputs>): pulumi.dynamic.CheckFailure[] {
  const failures = connectionFailures(news, ["schema"]);
  for (const [i, table] of (news.tables ?? []).entries()) {
    const where = `tables[${i}]`;
    if (!isPgName(table.name))
      failures.push({ property: "tables", reason: `${where}.name must be 1 to 63 characters` });
    if (!Array.isArray(table.columns) || table.columns.length === 0) {
      failures.push({ property: "tables", reason: `${where} (${table.name}) needs at least one column` });
      continue;
    }
    for (const col of table.columns) {
      if (!isPgName(col.name) || typeof col.type !== "string" || !/^[\w\s(),[\]."]+$/.test(col.type)) {
        failures.push({
          property: "tables",
          reason: `${where} (${table.name}): column '${col.name}' needs a name and a plain type name`,
        });
      }
    }
    for (const key of [...table.primaryKey, ...(table.indexes ?? []).flatMap((x) => x.columns)]) {
      if (!table.columns.some((c) => c.name === key)) {
        failures.push({ property: "tables", reason: `${where} (${table.name}): '${key}' is not one of its columns` });
      }
    }
  }
  if (!Array.isArray(news.tables) || news.tables.length === 0) {
    failures.push({ property: "tables", reason: "must declare at least one table" });
  }
  return failures;
}

const names = (inputs: PostgresSchemaInputs) => inputs.tables.map((t) => t.name);

async function observe(inputs: PostgresSchemaInputs): Promise<PostgresSchemaState> {
  return { ...inputs, live: await withClient(inputs, (client) => readTables(client, inputs.schema, names(inputs))) };
}

/** Creates or evolves the tables; with `empty`, also empties them, in the same transaction. */
async function converge(
  inputs: PostgresSchemaInputs,
  previous: TableSpec[],
  empty: boolean,
): Promise<PostgresSchemaState> {
  await withClient(inputs, async (client) => {
    const plan = planSchema(
      inputs.schema,
      inputs.tables,
      await readTables(client, inputs.schema, names(inputs)),
      previous,
    );
    const refused = refusal(plan, inputs.allowDestructive);
    if (refused) throw new Error(refused);
    if (empty) plan.additive.push(`TRUNCATE ${inputs.tables.map((t) => qualified(inputs.schema, t.name)).join(", ")}`);
    await applyPlan(client, plan);
  });
  return observe(inputs);
}

export const postgresSchemaProvider: pulumi.dynamic.ResourceProvider<PostgresSchemaInputs, PostgresSchemaState> = {
  async check(_olds, news) {
    const inputs = {
      ...news,
      allowDestructive: news.allowDestructive ?? false,
      dropTablesOnDelete: news.dropTablesOnDelete ?? false,
    };
    return { inputs, failures: checkSchemaInputs(inputs) };
  },
  async diff(_id, olds, news) {
    const replaces = (["host", "port", "database", "schema"] as const).filter((key) => olds[key] !== news[key]);
    const plan = planSchema(news.schema, news.tables, olds.live, olds.tables);
    const changes =
      replaces.length > 0 ||
      !planIsEmpty(plan) ||
      olds.user !== news.user ||
      olds.password !== news.password ||
      olds.allowDestructive !== news.allowDestructive ||
      olds.dropTablesOnDelete !== news.dropTablesOnDelete ||
      olds.rebuildToken !== news.rebuildToken;
    return { changes, replaces: [...replaces] };
  },
  async create(inputs) {
    return {
      id: `${inputs.host}:${inputs.port}/${inputs.database}/${inputs.schema}`,
      outs: await converge(inputs, [], inputs.rebuildToken !== undefined),
    };
  },
  async read(id, props) {
    if (!props) throw new Error(`PostgresSchema ${id}: cannot read without its recorded connection`);
    return { id, props: await observe(props) };
  },
  async update(_id, olds, news) {
    const rebuild = news.rebuildToken !== undefined && news.rebuildToken !== olds.rebuildToken;
    return { outs: await converge(news, olds.tables, rebuild) };
  },
  async delete(_id, props) {
    if (!props.dropTablesOnDelete) return;
    await withClient(props, async (client) => {
      for (const table of props.tables)
        await client.query(`DROP TABLE IF EXISTS ${qualified(props.schema, table.name)}`);
    });
  },
};

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

export class PostgresSchema extends pulumi.dynamic.Resource {
  declare readonly live: pulumi.Output<LiveTable[]>;

  constructor(name: string, args: PostgresSchemaArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      postgresSchemaProvider,
      name,
      { live: undefined, ...args, password: pulumi.secret(args.password) },
      { ...opts, additionalSecretOutputs: ["password"] },
      "cdc-pipeline",
      "PostgresSchema",
    );
  }
}

// The target schema the JDBC sink writes to, as PostgresSchema declares it: tables with their columns,
// types, NOT NULL, primary keys and indexes; how they are read back, the plan that turns the live tables
// into the declared ones (additive statements, and destructive ones that must be allowed), and applying it.
import type { Client } from "pg";
import { z } from "zod";
import { containsUnknown } from "./input-check";
import { ident, pgName, qualified } from "./postgres";

/**
 * A column type as written in DDL: a plain type name with an optional modifier or array suffix, nothing
 * that could end the statement. config.ts checks the stack's declared columns with it too.
 */
export const pgTypeName = z
  .string("must be a PostgreSQL type such as integer, text or numeric(10,2)")
  .regex(/^[\w\s(),[\]."]+$/, "must be a PostgreSQL type such as integer, text or numeric(10,2)");

const columnSpecSchema = z.object({
  /** Name of the column. */
  name: pgName,
  /** A PostgreSQL type; the usual aliases (int, varchar(n), timestamptz...) are normalised. */
  type: pgTypeName,
  /** Default: true. */
  nullable: z.boolean("must be true or false").optional(),
});

const indexSpecSchema = z.object({
  /** Name of the index. */
  name: pgName,
  /** Its columns, in order. */
  columns: z.array(pgName, "must list column names").min(1, "must list at least one column"),
  /** Default: false. */
  unique: z.boolean("must be true or false").optional(),
});

/** A declared table: every name it uses must be one of its columns. */
export const tableSpecSchema = z
  .object({
    /** Name of the table. */
    name: pgName,
    /** Its columns, in order. */
    columns: z.array(columnSpecSchema, "must list columns").min(1, "needs at least one column"),
    /** Columns of the primary key, in order; none when empty. */
    primaryKey: z.array(pgName, "must list column names"),
    /** Default: none. */
    indexes: z.array(indexSpecSchema, "must list indexes").optional(),
  })
  .superRefine((table, ctx) => {
    // A column name still unknown at preview cannot be matched yet.
    if (containsUnknown(table.columns)) return;
    const notAColumn = (key: string) => !table.columns.some((c) => c.name === key);
    for (const key of table.primaryKey.filter(notAColumn)) {
      ctx.addIssue({ code: "custom", path: ["primaryKey"], message: `'${key}' is not one of its columns` });
    }
    for (const [i, index] of (table.indexes ?? []).entries()) {
      for (const key of index.columns.filter(notAColumn)) {
        ctx.addIssue({
          code: "custom",
          path: ["indexes", i, "columns"],
          message: `'${key}' is not one of its columns`,
        });
      }
    }
  });

export type ColumnSpec = z.infer<typeof columnSpecSchema>;
export type TableSpec = z.infer<typeof tableSpecSchema>;

/** A table as the database has it, in the same shape as TableSpec with types as PostgreSQL prints them. */
export interface LiveTable {
  name: string;
  columns: { name: string; type: string; nullable: boolean }[];
  primaryKey: string[];
  /** Name of the primary key constraint, when there is one. */
  primaryKeyName?: string;
  indexes: { name: string; columns: string[]; unique: boolean }[];
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

/** Reads the named tables of a schema; a table that does not exist is absent from the result. */
export async function readLiveTables(
  client: Pick<Client, "query">,
  schema: string,
  names: string[],
): Promise<LiveTable[]> {
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
  declared: readonly TableSpec[],
  live: LiveTable[],
  previous: readonly TableSpec[] = [],
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
export function destructiveRefusal(plan: SchemaPlan, allowDestructive: boolean): string | undefined {
  if (allowDestructive || plan.destructive.length === 0) return undefined;
  return `destructive changes refused (set allowDestructive: true, in stack config cdc-pipeline:target.allowDestructive, to apply them): ${plan.destructive.map((d) => d.what).join("; ")}`;
}

/** Applies a plan in one transaction: all of it or nothing. */
async function applySchemaPlan(client: Pick<Client, "query">, plan: SchemaPlan): Promise<void> {
  await client.query("BEGIN");
  try {
    for (const sql of [...plan.additive, ...plan.destructive.flatMap((d) => d.sql)]) await client.query(sql);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  }
}

/** Empties the tables, for a snapshot of a restored source to refill them. */
function truncateTablesSql(schema: string, tables: readonly TableSpec[]): string {
  return `TRUNCATE ${tables.map((t) => qualified(schema, t.name)).join(", ")}`;
}

/** What the target tables are brought to: PostgresSchema's inputs, without the connection. */
export interface TargetSchemaDeclaration {
  /** Schema the tables live in (created when missing). */
  readonly schema: string;
  /** The declared tables. */
  readonly tables: readonly TableSpec[];
  /** Apply destructive changes (drop a column, change a type or a primary key). */
  readonly allowDestructive: boolean;
}

/**
 * Creates or evolves the declared tables in one transaction, refusing destructive changes unless they are
 * allowed. `previous` is what was declared before (only a column declared there and no longer is dropped);
 * with `empty`, the tables are also emptied in the same transaction, for a snapshot of a restored source
 * to refill them.
 */
export async function applyDeclaredTables(
  client: Pick<Client, "query">,
  declared: TargetSchemaDeclaration,
  previous: readonly TableSpec[],
  empty: boolean,
): Promise<void> {
  const names = declared.tables.map((t) => t.name);
  const live = await readLiveTables(client, declared.schema, names);
  const plan = planSchema(declared.schema, declared.tables, live, previous);
  const refused = destructiveRefusal(plan, declared.allowDestructive);
  if (refused) throw new Error(refused);
  if (empty) plan.additive.push(truncateTablesSql(declared.schema, declared.tables));
  await applySchemaPlan(client, plan);
}

/** Drops the tables and their data; a table already gone is fine. */
export async function dropTargetTables(client: Pick<Client, "query">, schema: string, tables: readonly TableSpec[]) {
  for (const table of tables) await client.query(`DROP TABLE IF EXISTS ${qualified(schema, table.name)}`);
}

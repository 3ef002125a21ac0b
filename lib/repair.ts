// Putting right the keys a reconcile names (lib/reconcile), by their canonical key text: the condition that
// selects them on either engine (an incremental snapshot reads them again with it), and the deletion of keys
// the target has and the source does not, which no snapshot can remove. `repair` and SourceBackfill's heal
// use them.
import type { Client } from "pg";
import { tableName } from "./canonical";
import { literal, qualified } from "./postgres";
import {
  postgresSide,
  primaryKeyText,
  reconcileTable,
  type ReconcileOptions,
  type ReconcileSide,
  type ReconciledTable,
} from "./reconcile";
import { unicodeLiteral } from "./sqlserver";

/** A condition selecting the rows whose canonical key text is one of `keys`, in the engine's SQL. */
export function keysCondition(
  side: Pick<ReconcileSide, "engine">,
  table: ReconciledTable,
  keys: readonly string[],
): string {
  const quote = side.engine === "postgres" ? literal : unicodeLiteral;
  return `${primaryKeyText(side.engine, table)} IN (${keys.map(quote).join(", ")})`;
}

/** The keys among `keys` that the source table has. */
async function presentKeys(side: ReconcileSide, table: ReconciledTable, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await side.query<{ k: string }>(
    `SELECT ${primaryKeyText(side.engine, table)} AS k FROM ${tableName(side.engine, table.source.schema, table.source.name)} ` +
      `WHERE ${keysCondition(side, table, keys)}`,
  );
  return new Set(rows.map((r) => r.k));
}

/**
 * Deletes from the target the extra keys the source still does not have (a key written on the source since
 * the reconcile is on its way through the pipeline: it is left alone); returns the keys deleted.
 */
export async function deleteExtraKeys(
  source: ReconcileSide,
  target: Pick<Client, "query">,
  table: ReconciledTable,
  extra: readonly string[],
): Promise<string[]> {
  const present = await presentKeys(source, table, extra);
  const gone = extra.filter((key) => !present.has(key));
  if (gone.length === 0) return [];
  await target.query(
    `DELETE FROM ${qualified(table.target.schema, table.target.name)} WHERE ${primaryKeyText("postgres", table)} = ANY($1::text[])`,
    [gone],
  );
  return gone;
}

/**
 * Reconciles each table and deletes from the target the keys the source does not have: what deletes lost on
 * the way left behind (a snapshot brings back missing and changed rows, never removes one). Returns the
 * deleted keys by table ("schema.name").
 */
export async function deleteExtraRows(
  source: ReconcileSide,
  target: Pick<Client, "query">,
  tables: readonly ReconciledTable[],
  options: Pick<ReconcileOptions, "settleMs"> = {},
): Promise<Record<string, string[]>> {
  const deleted: Record<string, string[]> = {};
  const targetSide = await postgresSide(target);
  for (const table of tables) {
    const report = await reconcileTable(source, targetSide, table, options);
    deleted[report.table] = await deleteExtraKeys(source, target, table, report.extra);
  }
  return deleted;
}

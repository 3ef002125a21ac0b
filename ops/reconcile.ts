// Reconciliation of a stack's source and target (lib/reconcile.ts compares the tables): the stack's tables
// and databases, as its configuration names them.
import type { StackSettings } from "../config";
import {
  reconcile,
  withPostgresSide,
  withSourceSide,
  type ReconcileOptions,
  type ReconcileReport,
  type ReconcileSide,
  type ReconciledTable,
} from "../lib/reconcile";
import { sourceDatabase, targetConnection, type StackSite } from "./stacks";

export const RECONCILE_EXIT = { match: 0, mismatch: 1, error: 2 } as const;

/**
 * Configured tables as the comparison needs them: source schema and name, the target's schema, types. Without
 * a target schema each table is its own target (a backup's digests read one side only).
 */
export function reconciledTables(tables: StackSettings["tables"], targetSchema?: string): ReconciledTable[] {
  return tables.map((t) => ({
    source: { schema: t.schema, name: t.name },
    target: { schema: targetSchema ?? t.schema, name: t.name },
    columns: t.columns.map(({ name, type }) => ({ name, type })),
    primaryKey: t.primaryKey,
  }));
}

/** The tables of a stack, as the comparison needs them. */
export function stackTables(site: StackSite): ReconciledTable[] {
  return reconciledTables(site.settings.tables, site.settings.target.schema);
}

/** Reconciles a stack's source and target, reading the connection settings from its configuration. */
export function reconcileSite(
  site: StackSite,
  options: ReconcileOptions & { tables?: string[] } = {},
): Promise<ReconcileReport> {
  const tables = stackTables(site).filter(
    (t) => !options.tables || options.tables.includes(`${t.source.schema}.${t.source.name}`),
  );
  const unknown = (options.tables ?? []).filter(
    (name) => !tables.some((t) => `${t.source.schema}.${t.source.name}` === name),
  );
  if (unknown.length > 0) {
    throw new Error(
      `--tables: ${unknown.join(", ")} not in the stack's tables (${stackTables(site)
        .map((t) => `${t.source.schema}.${t.source.name}`)
        .join(", ")})`,
    );
  }
  const compare = (source: ReconcileSide) =>
    withPostgresSide(targetConnection(site), (target) => reconcile(source, target, tables, options));
  return withSourceSide(sourceDatabase(site), compare);
}

// `cdc-pipeline repair`: what reconcile finds, put right while streaming goes on. Missing and changed keys
// are read again from the source by an incremental snapshot limited to them (a condition on the canonical
// key text reconcile names them by); extra keys, which no snapshot can remove, are deleted from the target
// once the source is seen not to have them still. Reconcile must then match.
import { withClient } from "../lib/postgres";
import type { TableScan } from "../lib/incremental-snapshot";
import { deleteExtraKeys, keysCondition } from "../lib/repair";
import { withSourceSide, type ReconcileReport, type ReconciledTable } from "../lib/reconcile";
import { reconcileSite, stackTables } from "./reconcile";
import { declaredTable, snapshotOnSite, stackDataCollection } from "./resync";
import { sourceDatabase, targetConnection, type StackSite } from "./stacks";

export interface RepairOptions {
  /** Only this table ("schema.name"). Default: every table of the stack. */
  readonly table?: string;
  /** Report what would be done, and do nothing. */
  readonly dryRun: boolean;
  /** The most keys a repair touches without `force`. */
  readonly maxKeys: number;
  /** Repair however many keys differ. */
  readonly force: boolean;
  /** How long to wait for the snapshot to finish. */
  readonly timeoutMs: number;
  /** How long each reconcile waits for rows in flight. */
  readonly settleMs: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** What a repair does to one table. */
export interface TableRepair {
  readonly table: string;
  /** Keys read again from the source: missing from the target, or different there. */
  readonly reemitted: string[];
  /** Keys deleted from the target: the source does not have them. */
  readonly deleted: string[];
}

export interface RepairReport {
  /** The reconcile that found what to repair. */
  readonly found: ReconcileReport;
  readonly repairs: TableRepair[];
  /** The incremental snapshot's scans; none on a dry run or when nothing was to be read again. */
  readonly scans: TableScan[];
  /** The reconcile after the repair; absent on a dry run. */
  readonly after?: ReconcileReport;
  /** match: the target matches the source (after the repair, or already); mismatch otherwise, or on a dry run with differences. */
  readonly status: "match" | "mismatch";
}

/** Deletes the extra keys the source does not have (deleteExtraKeys), over the stack's databases. */
function deleteExtras(site: StackSite, table: ReconciledTable, extra: string[]): Promise<string[]> {
  return withSourceSide(sourceDatabase(site), (source) =>
    withClient(targetConnection(site), (target) => deleteExtraKeys(source, target, table, extra)),
  );
}

/** Repairs the stack's target, or reports what a repair would do. */
export async function repairSite(site: StackSite, options: RepairOptions): Promise<RepairReport> {
  if (options.table !== undefined) declaredTable(site, options.table, "--table");
  const tables = options.table ? [options.table] : undefined;
  const found = await reconcileSite(site, { tables, settleMs: options.settleMs });
  const differing = found.tables.filter((t) => t.severity !== "OK");
  const touched = differing.reduce((n, t) => n + t.missing.length + t.changed.length + t.extra.length, 0);
  if (touched > options.maxKeys && !options.force && !options.dryRun) {
    throw new Error(
      `${touched} keys differ, more than --max-keys ${options.maxKeys}: nothing was changed. Look at them with ` +
        `--dry-run or reconcile, then repair with a higher --max-keys or with --force`,
    );
  }
  const planned = differing.map((t) => ({
    table: t.table,
    reemitted: [...t.missing, ...t.changed].sort(),
    deleted: t.extra,
  }));
  if (options.dryRun || differing.length === 0) {
    return { found, repairs: planned, scans: [], status: found.status };
  }
  const byName = new Map(stackTables(site).map((t) => [`${t.source.schema}.${t.source.name}`, t]));
  const repairs: TableRepair[] = [];
  for (const plan of planned) {
    const table = byName.get(plan.table)!;
    const deleted = await deleteExtras(site, table, plan.deleted);
    options.log?.(
      `repair   ${plan.table}: ${deleted.length} extra keys deleted, ${plan.reemitted.length} to read again`,
    );
    repairs.push({ table: plan.table, reemitted: plan.reemitted, deleted });
  }
  const toRead = repairs.filter((r) => r.reemitted.length > 0);
  const source = { engine: site.settings.source.engine };
  const conditions = Object.fromEntries(
    toRead.map((r) => {
      const table = byName.get(r.table)!;
      return [stackDataCollection(site, table.source), keysCondition(source, table, r.reemitted)];
    }),
  );
  const run =
    toRead.length > 0
      ? await snapshotOnSite(site, { dataCollections: Object.keys(conditions), conditions }, options.timeoutMs)
      : { scans: [] };
  const after = await reconcileSite(site, { tables: planned.map((p) => p.table), settleMs: options.settleMs });
  return { found, repairs, scans: run.scans, after, status: after.status };
}

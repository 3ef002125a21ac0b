// `cdc-pipeline resync`: one table read again from the source while streaming goes on, through a Debezium
// incremental snapshot (lib/incremental-snapshot), optionally only the rows a condition selects; once the
// connector's own notification says the scan has finished, the table is reconciled. `repair` runs its
// snapshots the same way (snapshotOnSite).
import {
  dataCollection,
  runIncrementalSnapshot,
  type SnapshotRequest,
  type SnapshotRun,
  type SourceTable,
  type TableScan,
} from "../lib/incremental-snapshot";
import { ownTablesSchema, pipelineNames } from "../lib/pipeline-names";
import { withClient } from "../lib/postgres";
import { withSqlServer } from "../lib/sqlserver";
import { tableName } from "../lib/canonical";
import { type ReconcileReport } from "../lib/reconcile";
import { reconcileSite } from "./reconcile";
import { sourceConnection, sourceDatabase, type StackSite } from "./stacks";

/** A table of the stack as the flag names it ("schema.name"); an error naming the flag and the tables there are. */
export function declaredTable(site: StackSite, name: string, flag: string): SourceTable {
  const table = site.settings.tables.find((t) => `${t.schema}.${t.name}` === name);
  if (!table) {
    const names = site.settings.tables.map((t) => `${t.schema}.${t.name}`).join(", ");
    throw new Error(`${flag}: '${name}' is not one of the stack's tables (${names})`);
  }
  return { schema: table.schema, name: table.name };
}

/** A table's data collection name on the stack's source. */
export const stackDataCollection = (site: StackSite, table: SourceTable): string =>
  dataCollection({ engine: site.settings.source.engine, database: site.settings.source.database }, table);

/**
 * Asks the stack's source connector for an incremental snapshot and waits until it is over
 * (runIncrementalSnapshot).
 */
export async function snapshotOnSite(
  site: StackSite,
  request: SnapshotRequest,
  timeoutMs: number,
): Promise<SnapshotRun> {
  const { settings } = site;
  const names = pipelineNames(settings.pipeline, settings.source);
  const table = { schema: ownTablesSchema(settings.tables), name: names.signalTable };
  return runIncrementalSnapshot(
    { source: sourceDatabase(site), table },
    { bootstrapServers: settings.kafkaConnect.bootstrapServers, topic: names.notificationTopic },
    request,
    timeoutMs,
  );
}

/**
 * Why a condition is not one SQL condition to put in Debezium's chunk query, "... AND (condition)"; undefined
 * when it is. Outside quotes it may hold no statement separator or comment, and its parentheses must balance
 * (or it could close the connector's own).
 */
export function conditionShapeProblem(condition: string): string | undefined {
  if (condition.trim() === "") return "is empty: give a condition on the table's columns, such as id > 100";
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < condition.length; i++) {
    const c = condition[i];
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "[") quote = "]";
    else if (c === "(") depth++;
    else if (c === ")" && --depth < 0) return "has a ')' without its '('";
    else if (c === ";") return "holds ';': give one condition, not statements";
    else if (condition.startsWith("--", i) || condition.startsWith("/*", i)) return "holds a comment: remove it";
  }
  if (quote) return `has an unclosed ${quote === "]" ? "[" : quote}`;
  if (depth > 0) return "has a '(' without its ')'";
  return undefined;
}

/**
 * Checks a condition against the source table before any signal is sent: its shape, then the database's own
 * parse of `SELECT ... WHERE (condition)`, in a read-only transaction that reads no row. An error names the
 * flag and what the database said.
 */
export async function checkCondition(site: StackSite, table: SourceTable, condition: string, flag: string) {
  const shape = conditionShapeProblem(condition);
  if (shape) throw new Error(`${flag} ${shape}`);
  const conn = sourceConnection(site);
  const refused = (err: unknown) =>
    new Error(`${flag} is not a valid condition on ${table.schema}.${table.name}: ${(err as Error).message}`);
  if (site.settings.source.engine === "postgres") {
    await withClient(conn, async (client) => {
      await client.query("BEGIN READ ONLY");
      try {
        // With a parameter, pg sends it by the extended protocol, which runs one statement at most.
        await client.query(
          `SELECT $1::int AS probe FROM ${tableName("postgres", table.schema, table.name)} WHERE (${condition}) LIMIT 0`,
          [1],
        );
      } catch (err) {
        throw refused(err);
      } finally {
        await client.query("ROLLBACK");
      }
    });
  } else {
    await withSqlServer(conn, (client) =>
      client.query(
        `SELECT TOP (0) 1 AS x FROM ${tableName("sqlserver", table.schema, table.name)} WHERE (${condition})`,
      ),
    ).catch((err: unknown) => {
      throw refused(err);
    });
  }
}

export interface ResyncOptions {
  /** The table, as "schema.name". */
  readonly table: string;
  /** Only the rows this condition selects. Default: every row. */
  readonly where?: string;
  /** How long to wait for the snapshot to finish. */
  readonly timeoutMs: number;
  /** How long the reconcile after it waits for rows in flight. */
  readonly settleMs: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface ResyncReport {
  readonly table: string;
  readonly where?: string;
  /** The signal's id, as the connector's log and notifications show it. */
  readonly signal: string;
  readonly scan: TableScan;
  /** The table reconciled afterwards. */
  readonly reconciled: ReconcileReport;
}

/** Resyncs one table: checked, snapshotted (streaming goes on), then reconciled. */
export async function resyncTable(site: StackSite, options: ResyncOptions): Promise<ResyncReport> {
  const table = declaredTable(site, options.table, "--table");
  if (options.where !== undefined) await checkCondition(site, table, options.where, "--where");
  const collection = stackDataCollection(site, table);
  options.log?.(`resync   ${options.table}${options.where ? ` where ${options.where}` : ""}: snapshot requested`);
  const run = await snapshotOnSite(
    site,
    { dataCollections: [collection], conditions: options.where ? { [collection]: options.where } : undefined },
    options.timeoutMs,
  );
  options.log?.(`resync   ${options.table}: ${run.scans[0].rows} rows read; reconciling`);
  const reconciled = await reconcileSite(site, { tables: [options.table], settleMs: options.settleMs });
  return { table: options.table, where: options.where, signal: run.signal, scan: run.scans[0], reconciled };
}

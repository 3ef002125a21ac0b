// Reconciliation of the source and the target, computed inside each database. Rows are spread over
// segments by a hash of their primary key (the same on both engines, whatever their collations and key
// types); each database returns, per segment, its row count and the sum of its rows' 64-bit hashes
// (lib/canonical.ts). Segments that differ are split sixteen ways and compared again, until they are small
// enough to fetch their keys and row hashes: the differing keys are then missing, extra or changed.
// The client holds one entry per segment and, at the end, the rows of the few differing segments: memory
// grows with the number of segments, not of rows.
import type { Client } from "pg";
import { withClient, type PostgresConnection } from "./postgres";
import type { SourceDatabase } from "./source-database";
import { withSqlServer, type SqlClient, type SqlServerConnection } from "./sqlserver";
import { hashBits, rowText, tableName, type CanonicalColumn, type Engine } from "./canonical";

/** One database the comparison reads. */
export interface ReconcileSide {
  readonly engine: Engine;
  query<T extends object>(sql: string): Promise<T[]>;
}

/** A table compared: where it is on each side, its columns (declared target types) and its key. */
export interface ReconciledTable {
  /** `schema.name` on the source; the name of the table in reports. */
  readonly source: { readonly schema: string; readonly name: string };
  readonly target: { readonly schema: string; readonly name: string };
  readonly columns: readonly CanonicalColumn[];
  readonly primaryKey: readonly string[];
}

export type Severity = "OK" | "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";

export interface TableReport {
  readonly table: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  /** Keys (canonical text of the primary key) in the source and not the target, and the reverse. */
  readonly missing: string[];
  readonly extra: string[];
  /** Keys on both sides whose rows differ. */
  readonly changed: string[];
  readonly severity: Severity;
  /** How many database round trips of segment sums it took (one per side per level). */
  readonly levels: number;
  readonly seconds: number;
}

export interface ReconcileOptions {
  /** Rows per segment at the first level. Default 1000. */
  readonly segmentRows?: number;
  /** Fetch the rows of the differing segments once they hold at most this many rows. Default 5000. */
  readonly fetchRows?: number;
  /**
   * Lag: re-check the differing segments every second until they match, for at most this long, so that rows
   * still in flight through the pipeline do not count as lost. Default 0: no re-check.
   */
  readonly settleMs?: number;
  /** Called after each level of a table and when a table is done, for a progress display. */
  readonly onProgress?: (event: { table: string; level: number; differingSegments: number; done: boolean }) => void;
}

const FANOUT = 16;
/** The key hash has 32 bits: segments cannot be split further than that. */
const MAX_MODULUS = 2 ** 32;

interface SegmentSum {
  b: string | number;
  n: string | number;
  s: string | null;
}

/** The canonical text of a row's primary key on one engine: how the reports name a key. */
export function primaryKeyText(engine: Engine, table: ReconciledTable): string {
  const key = table.primaryKey.map((k) => table.columns.find((c) => c.name === k) ?? { name: k, type: "text" });
  return rowText(engine, key);
}

/** The expressions one side computes per row. */
function rowHashes(side: ReconcileSide, schema: string, name: string, table: ReconciledTable): string {
  const key = primaryKeyText(side.engine, table);
  return (
    `SELECT ${key} AS k, ${hashBits(side.engine, key, 32)} AS p, ` +
    `${hashBits(side.engine, rowText(side.engine, table.columns), 64)} AS h FROM ${tableName(side.engine, schema, name)}`
  );
}

const within = (parents?: { modulus: number; segments: number[] }) =>
  parents ? ` WHERE r.p % ${parents.modulus} IN (${parents.segments.join(", ")})` : "";

/** Per segment of `modulus`: row count and hash sum, over the rows of the parent segments only. */
async function segmentSums(
  side: ReconcileSide,
  rows: string,
  modulus: number,
  parents?: { modulus: number; segments: number[] },
): Promise<Map<number, string>> {
  const sql =
    side.engine === "postgres"
      ? `SELECT r.p % ${modulus} AS b, count(*) AS n, sum(r.h::numeric)::text AS s FROM (${rows}) r` +
        `${within(parents)} GROUP BY 1`
      : `SELECT r.p % ${modulus} AS b, COUNT_BIG(*) AS n, CONVERT(varchar(50), SUM(CONVERT(decimal(38, 0), r.h))) AS s ` +
        `FROM (${rows}) r${within(parents)} GROUP BY r.p % ${modulus}`;
  const result = await side.query<SegmentSum>(sql);
  return new Map(result.map((r) => [Number(r.b), `${r.n}:${r.s}`]));
}

/** Keys and row hashes of the rows in the given segments. */
async function segmentRows(
  side: ReconcileSide,
  rows: string,
  modulus: number,
  segments: number[],
): Promise<Map<string, string>> {
  const result = await side.query<{ k: string; h: string | number }>(
    `SELECT r.k, r.h FROM (${rows}) r WHERE r.p % ${modulus} IN (${segments.join(", ")})`,
  );
  return new Map(result.map((r) => [r.k, String(r.h)]));
}

/** Rows of one segment (sums are "count:hash sum"). */
const countOf = (sums: Map<number, string>, segment: number) => Number((sums.get(segment) ?? "0:").split(":")[0]);
const rowsIn = (sums: Map<number, string>) => [...sums.keys()].reduce((total, b) => total + countOf(sums, b), 0);

export function severityOf(sourceRows: number, missing: number, extra: number, changed: number): Severity {
  const differing = missing + extra + changed;
  if (differing === 0) return "OK";
  if (changed > 0) return "CRITICAL";
  const ratio = differing / Math.max(sourceRows, 1);
  return ratio < 0.001 ? "LOW" : ratio < 0.01 ? "MEDIUM" : ratio < 0.1 ? "HIGH" : "CRITICAL";
}

function differingKeys(source: Map<string, string>, target: Map<string, string>) {
  const missing: string[] = [];
  const changed: string[] = [];
  for (const [key, hash] of source) {
    const other = target.get(key);
    if (other === undefined) missing.push(key);
    else if (other !== hash) changed.push(key);
  }
  const extra = [...target.keys()].filter((key) => !source.has(key));
  return { missing: missing.sort(), extra: extra.sort(), changed: changed.sort() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Compares one table on both sides. */
export async function reconcileTable(
  source: ReconcileSide,
  target: ReconcileSide,
  table: ReconciledTable,
  options: ReconcileOptions = {},
): Promise<TableReport> {
  const started = performance.now();
  const name = `${table.source.schema}.${table.source.name}`;
  const sourceRowsSql = rowHashes(source, table.source.schema, table.source.name, table);
  const targetRowsSql = rowHashes(target, table.target.schema, table.target.name, table);
  const both = (modulus: number, parents?: { modulus: number; segments: number[] }) =>
    Promise.all([
      segmentSums(source, sourceRowsSql, modulus, parents),
      segmentSums(target, targetRowsSql, modulus, parents),
    ]);

  // Level 0: one segment, which gives the row counts; then as many segments as needed for segmentRows each.
  const [sourceAll, targetAll] = await both(1);
  const sourceRows = rowsIn(sourceAll);
  const targetRows = rowsIn(targetAll);
  let levels = 1;
  let modulus = 1;
  let differing = sourceAll.get(0) === targetAll.get(0) ? [] : [0];
  let size = Math.max(sourceRows, targetRows);
  const segmentRowsTarget = options.segmentRows ?? 1000;
  const fetchLimit = options.fetchRows ?? 5000;
  while (differing.length > 0 && size > fetchLimit && modulus < MAX_MODULUS) {
    // The first split goes straight to about segmentRows rows per segment; later ones sixteen ways.
    const split = modulus === 1 ? 2 ** Math.ceil(Math.log2(Math.max(2, size / segmentRowsTarget))) : FANOUT;
    const parents = modulus === 1 ? undefined : { modulus, segments: differing };
    modulus = Math.min(modulus * split, MAX_MODULUS);
    const [s, t] = await both(modulus, parents);
    levels++;
    differing = [...new Set([...s.keys(), ...t.keys()])].filter((b) => s.get(b) !== t.get(b)).sort((a, b) => a - b);
    size = differing.reduce((total, b) => total + Math.max(countOf(s, b), countOf(t, b)), 0);
    options.onProgress?.({ table: name, level: levels, differingSegments: differing.length, done: false });
  }

  const compare = async () =>
    differing.length === 0
      ? { missing: [], extra: [], changed: [] }
      : differingKeys(
          await segmentRows(source, sourceRowsSql, modulus, differing),
          await segmentRows(target, targetRowsSql, modulus, differing),
        );
  let keys = await compare();
  // Lag: rows on their way through Kafka differ for a while. Re-check the differing segments (only they)
  // until they match or the bound is reached; what still differs then is reported.
  const deadline = performance.now() + (options.settleMs ?? 0);
  while (keys.missing.length + keys.extra.length + keys.changed.length > 0 && performance.now() < deadline) {
    await sleep(1000);
    keys = await compare();
  }
  options.onProgress?.({ table: name, level: levels, differingSegments: differing.length, done: true });
  return {
    table: name,
    sourceRows,
    targetRows,
    ...keys,
    severity: severityOf(sourceRows, keys.missing.length, keys.extra.length, keys.changed.length),
    levels,
    seconds: (performance.now() - started) / 1000,
  };
}

export interface ReconcileReport {
  readonly tables: TableReport[];
  readonly status: "match" | "mismatch";
}

/** Compares every table, one after the other, over one connection per side. */
export async function reconcile(
  source: ReconcileSide,
  target: ReconcileSide,
  tables: readonly ReconciledTable[],
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const reports: TableReport[] = [];
  for (const table of tables) reports.push(await reconcileTable(source, target, table, options));
  return { tables: reports, status: reports.every((r) => r.severity === "OK") ? "match" : "mismatch" };
}

/** A PostgreSQL side over a connected client (in whatever transaction it is in). */
export async function postgresSide(client: Pick<Client, "query">): Promise<ReconcileSide> {
  // A column of a timestamp type other than the declared one is read in UTC, not the session's zone.
  await client.query("SET TIME ZONE 'UTC'");
  return { engine: "postgres", query: async <R extends object>(sql: string) => (await client.query<R>(sql)).rows };
}

/** A PostgreSQL side, open for the duration of `work`. */
export function withPostgresSide<T>(conn: PostgresConnection, work: (side: ReconcileSide) => Promise<T>): Promise<T> {
  return withClient(conn, async (client) => work(await postgresSide(client)));
}

/**
 * One table's row count and hash sum as the comparison computes them (its first level): what a backup's
 * manifest records, and what a restored copy must show again.
 */
export async function tableDigest(
  side: ReconcileSide,
  table: ReconciledTable,
  at: { schema: string; name: string } = table.source,
): Promise<{ rows: number; hash: string }> {
  const sums = await segmentSums(side, rowHashes(side, at.schema, at.name, table), 1);
  const [rows, hash] = (sums.get(0) ?? "0:").split(":");
  return { rows: Number(rows), hash: hash || "0" };
}

/** A SQL Server side on a client. */
export const sqlServerSide = (client: SqlClient): ReconcileSide => ({
  engine: "sqlserver",
  query: <R extends object>(sql: string) => client.query<R>(sql),
});

/** A SQL Server side, open for the duration of `work`. */
export function withSqlServerSide<T>(conn: SqlServerConnection, work: (side: ReconcileSide) => Promise<T>): Promise<T> {
  return withSqlServer(conn, (client) => work(sqlServerSide(client)));
}

/** A source database of either engine as a comparison side, open for the duration of `work`. */
export function withSourceSide<T>(source: SourceDatabase, work: (side: ReconcileSide) => Promise<T>): Promise<T> {
  return source.engine === "postgres" ? withPostgresSide(source, work) : withSqlServerSide(source, work);
}

// Benchmark of reconcile on the harness's PostgreSQL pair: a 1M-row, 8-column table on each side. Prints
// figures; asserts nothing.
//   1. a full match: rows per second, peak memory;
//   2. ten rows changed, deleted or added in the target: time to name them, peak memory;
//   3. the baseline the runbooks use: every row pulled into the client and hashed there.
// Run: npm run bench:reconcile (the harness must be up). ROWS=200000 npm run bench:reconcile for a quick run.
import { createHash } from "node:crypto";
import { Client } from "pg";
import { reconcileTable, withPostgresSide, type ReconciledTable } from "../lib/reconcile";
import { harness } from "../test/harness";

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const schema = `bench_recon_${Date.now().toString(36)}`;
const conn = (side: "source" | "target") => ({ ...harness[side], password: harness.pgPassword });

const table: ReconciledTable = {
  source: { schema, name: "t" },
  target: { schema, name: "t" },
  columns: [
    { name: "id", type: "bigint" },
    { name: "qty", type: "integer" },
    { name: "price", type: "numeric(12,2)" },
    { name: "label", type: "text" },
    { name: "at", type: "timestamp with time zone" },
    { name: "flag", type: "boolean" },
    { name: "ref", type: "uuid" },
    { name: "day", type: "date" },
  ],
  primaryKey: ["id"],
};

async function sql(side: "source" | "target", text: string): Promise<Record<string, unknown>[]> {
  const client = new Client(conn(side));
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(text)).rows;
  } finally {
    await client.end();
  }
}

/** Runs `work` and reports its wall time and the peak resident memory above the start. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; peakMb: number }> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const start = performance.now();
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, seconds: (performance.now() - start) / 1000, peakMb: (peak - base) / 2 ** 20 };
  } finally {
    clearInterval(sampler);
  }
}

/** The runbooks' way: every row of both sides into the client, hashed there, compared by key. */
async function baseline(): Promise<number> {
  const hashes = async (side: "source" | "target") => {
    const rows = await sql(side, `SELECT * FROM ${schema}.t`);
    return new Map(rows.map((r) => [String(r.id), createHash("md5").update(JSON.stringify(r)).digest("hex")]));
  };
  const [source, target] = await Promise.all([hashes("source"), hashes("target")]);
  let differing = 0;
  for (const [key, hash] of source) if (target.get(key) !== hash) differing++;
  for (const key of target.keys()) if (!source.has(key)) differing++;
  return differing;
}

async function main(): Promise<void> {
  for (const side of ["source", "target"] as const) {
    await sql(side, `CREATE SCHEMA ${schema}`);
    await sql(
      side,
      `CREATE TABLE ${schema}.t (id bigint PRIMARY KEY, qty int, price numeric(12,2), label text, at timestamptz,
         flag boolean, ref uuid, day date)`,
    );
    await sql(
      side,
      `INSERT INTO ${schema}.t SELECT g, g % 1000, (g % 100000) / 100.0, 'label ' || g,
         timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', g % 2 = 0,
         md5(g::text)::uuid, date '2020-01-01' + (g % 3000) FROM generate_series(1, ${ROWS}) g`,
    );
    await sql(side, `ANALYZE ${schema}.t`);
  }
  try {
    const compare = () =>
      withPostgresSide(conn("source"), (s) => withPostgresSide(conn("target"), (t) => reconcileTable(s, t, table)));
    const match = await measured(compare);
    // Ten differences spread over the table: four rows changed, three deleted, three added.
    const at = (fraction: number) => Math.max(1, Math.floor(ROWS * fraction));
    await sql(
      "target",
      `UPDATE ${schema}.t SET label = 'changed' WHERE id IN (${[0.0001, 0.25, 0.5, 0.75].map(at).join(", ")})`,
    );
    await sql("target", `DELETE FROM ${schema}.t WHERE id IN (${[0.1, 0.4, 0.9].map(at).join(", ")})`);
    await sql("target", `INSERT INTO ${schema}.t (id) VALUES (${ROWS + 1}), (${ROWS + 2}), (${ROWS + 3})`);
    const ten = await measured(compare);
    const base = await measured(baseline);
    const found = ten.result.missing.length + ten.result.extra.length + ten.result.changed.length;
    const perSecond = (s: number) => Math.round(ROWS / s).toLocaleString("en");
    console.log(`reconcile, ${ROWS.toLocaleString("en")} rows x 8 columns on each side (harness PostgreSQL pair):`);
    console.log(
      `  full match            ${match.seconds.toFixed(1)} s (${perSecond(match.seconds)} rows/s), peak +${match.peakMb.toFixed(0)} MB, ${match.result.levels} level(s)`,
    );
    console.log(
      `  10 differing rows     ${ten.seconds.toFixed(1)} s, found ${found} by key, peak +${ten.peakMb.toFixed(0)} MB, ${ten.result.levels} levels`,
    );
    console.log(
      `  baseline (client-side) ${base.seconds.toFixed(1)} s (${perSecond(base.seconds)} rows/s), found ${base.result}, peak +${base.peakMb.toFixed(0)} MB`,
    );
  } finally {
    for (const side of ["source", "target"] as const) await sql(side, `DROP SCHEMA ${schema} CASCADE`);
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

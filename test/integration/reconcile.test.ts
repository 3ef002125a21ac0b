// reconcile against the harness's two PostgreSQL clusters: the same rows written differently on each side
// (time zones, scales, padding, case) match; missing, extra and changed rows are each found by key, also
// when the segments must be split several times; rows still in flight settle.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileTable, withPostgresSide, type ReconciledTable, type Side } from "../../ops/reconcile";
import { query } from "../connectors";
import { harness } from "../harness";

const schema = `recon_${Date.now().toString(36)}`;
const conn = (side: "source" | "target") => ({ ...harness[side], password: harness.pgPassword });

/** Both sides open for the duration of `work`. */
const sides = <T>(work: (source: Side, target: Side) => Promise<T>) =>
  withPostgresSide(conn("source"), (source) => withPostgresSide(conn("target"), (target) => work(source, target)));

const EDGE_COLUMNS = [
  { name: "id", type: "integer" },
  { name: "amount", type: "numeric(10,2)" },
  { name: "at", type: "timestamp with time zone" },
  { name: "local_at", type: "timestamp" },
  { name: "day", type: "date" },
  { name: "clock", type: "time" },
  { name: "uid", type: "uuid" },
  { name: "flag", type: "boolean" },
  { name: "note", type: "text" },
  { name: "code", type: "char(5)" },
  { name: "raw", type: "bytea" },
  { name: "ratio", type: "double precision" },
];
const edge: ReconciledTable = {
  source: { schema, name: "edge" },
  target: { schema, name: "edge" },
  columns: EDGE_COLUMNS,
  primaryKey: ["id"],
};

// The target's column types are what a sink might have made of them: wider scales, text for char(n).
const SOURCE_DDL = `CREATE TABLE ${schema}.edge (id int PRIMARY KEY, amount numeric(10,2), at timestamptz, local_at timestamp,
  day date, clock time, uid uuid, flag boolean, note text, code char(5), raw bytea, ratio double precision)`;
const TARGET_DDL = `CREATE TABLE ${schema}.edge (id bigint PRIMARY KEY, amount numeric(14,4), at timestamptz, local_at timestamp(6),
  day date, clock time(6), uid uuid, flag boolean, note varchar(200), code text, raw bytea, ratio float8)`;

// The same values, written each side's way: another time zone, another scale, padded or not, upper case.
const SOURCE_ROWS = `SET TIME ZONE 'Asia/Kolkata';
INSERT INTO ${schema}.edge VALUES
 (1, 12.5, '2026-11-24 14:30:00.123456+05:30', '2026-11-24 09:00:00.000001', '2026-02-28', '10:00:01.5',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', true, 'Zoë 日本 🚀 | back\\slash', 'ab', '\\xDEADBEEF', 0.1),
 (2, -0.5, '1999-12-31 23:59:59.999999+00', NULL, NULL, NULL, NULL, false, '', '     ', '\\x', -1e-7),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 0, '2026-03-29 01:30:00+01', '2026-03-29 02:30:00', '0001-01-01', '00:00:00', '00000000-0000-0000-0000-000000000000', true, 'n\\N', 'x y', NULL, 1e15)`;
const TARGET_ROWS = `SET TIME ZONE 'America/Los_Angeles';
INSERT INTO ${schema}.edge VALUES
 (1, 12.5000, '2026-11-24 09:00:00.123456Z', '2026-11-24 09:00:00.000001', '2026-02-28', '10:00:01.500000',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true, 'Zoë 日本 🚀 | back\\slash', 'ab   ', '\\xdeadbeef', 0.1),
 (2, -0.50, '1999-12-31 23:59:59.999999Z', NULL, NULL, NULL, NULL, false, '', '', '\\x', -0.0000001),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 0.0000, '2026-03-29 00:30:00Z', '2026-03-29 02:30:00', '0001-01-01', '00:00:00', '00000000-0000-0000-0000-000000000000', true, 'n\\N', 'x y', NULL, 1000000000000000)`;

beforeAll(async () => {
  for (const side of ["source", "target"] as const) await query(side, `CREATE SCHEMA ${schema}`);
  await query("source", SOURCE_DDL);
  await query("target", TARGET_DDL);
  await query("source", SOURCE_ROWS);
  await query("target", TARGET_ROWS);
});
afterAll(async () => {
  for (const side of ["source", "target"] as const) await query(side, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

describe("reconcile on PostgreSQL", () => {
  it("finds no difference between the same values written differently (zones, scales, padding, case)", async () => {
    const report = await sides((s, t) => reconcileTable(s, t, edge));
    expect(report).toMatchObject({ table: `${schema}.edge`, sourceRows: 4, targetRows: 4, severity: "OK" });
    expect([report.missing, report.extra, report.changed]).toEqual([[], [], []]);
  });

  it("tells an empty string from NULL, and finds missing, extra and changed rows by key", async () => {
    await query("target", `UPDATE ${schema}.edge SET note = NULL WHERE id = 2`);
    await query("target", `UPDATE ${schema}.edge SET at = at + interval '1 microsecond' WHERE id = 1`);
    await query("target", `DELETE FROM ${schema}.edge WHERE id = 4`);
    await query("target", `INSERT INTO ${schema}.edge (id, note) VALUES (99, 'only here')`);
    const report = await sides((s, t) => reconcileTable(s, t, edge));
    expect(report).toMatchObject({ missing: ["4"], extra: ["99"], changed: ["1", "2"], severity: "CRITICAL" });
  });

  it("splits segments level after level and still names exactly the differing keys", async () => {
    const big: ReconciledTable = {
      source: { schema, name: "big" },
      target: { schema, name: "big" },
      columns: [
        { name: "id", type: "integer" },
        { name: "name", type: "text" },
      ],
      primaryKey: ["id"],
    };
    for (const side of ["source", "target"] as const) {
      await query(side, `CREATE TABLE ${schema}.big (id int PRIMARY KEY, name text)`);
      await query(side, `INSERT INTO ${schema}.big SELECT g, 'row ' || g FROM generate_series(1, 20000) g`);
    }
    await query("target", `DELETE FROM ${schema}.big WHERE id IN (17, 12345)`);
    await query("target", `UPDATE ${schema}.big SET name = 'changed' WHERE id = 19999`);
    const levels: number[] = [];
    const report = await sides((s, t) =>
      reconcileTable(s, t, big, { segmentRows: 100, fetchRows: 20, onProgress: (e) => levels.push(e.level) }),
    );
    expect(report).toMatchObject({
      sourceRows: 20000,
      targetRows: 19998,
      missing: ["12345", "17"],
      extra: [],
      changed: ["19999"],
    });
    expect(report.levels).toBeGreaterThanOrEqual(3);
    expect(levels.length).toBe(report.levels - 1);
  });

  it("grades severity by the share of differing rows: LOW under 0.1 %", async () => {
    const one = {
      ...edge,
      source: { schema, name: "big" },
      target: { schema, name: "big" },
      columns: [{ name: "id", type: "integer" }],
    };
    // Only the key compared: the changed name does not count, the two missing rows do (2 of 20000).
    const report = await sides((s, t) => reconcileTable(s, t, one));
    expect(report).toMatchObject({ missing: ["12345", "17"], changed: [], severity: "LOW" });
  });

  it("waits for rows still in flight when asked to settle", async () => {
    const late = {
      ...edge,
      source: { schema, name: "late" },
      target: { schema, name: "late" },
      columns: [{ name: "id", type: "integer" }],
    };
    for (const side of ["source", "target"] as const)
      await query(side, `CREATE TABLE ${schema}.late (id int PRIMARY KEY)`);
    await query("source", `INSERT INTO ${schema}.late VALUES (1), (2)`);
    await query("target", `INSERT INTO ${schema}.late VALUES (1)`);
    expect((await sides((s, t) => reconcileTable(s, t, late))).missing).toEqual(["2"]);
    const arrives = new Promise((resolve) => setTimeout(resolve, 1500)).then(() =>
      query("target", `INSERT INTO ${schema}.late VALUES (2)`),
    );
    const settled = await sides((s, t) => reconcileTable(s, t, late, { settleMs: 20_000 }));
    await arrives;
    expect(settled).toMatchObject({ missing: [], severity: "OK" });
  });
});

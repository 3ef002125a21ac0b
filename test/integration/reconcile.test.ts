// reconcile against the harness's two PostgreSQL clusters: the same rows written differently on each side
// (time zones, scales, padding, case) match; missing, extra and changed rows are each found by key, also
// when the segments must be split several times; rows still in flight settle.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileTable, withPostgresSide, type ReconciledTable, type ReconcileSide } from "../../lib/reconcile";
import { query } from "../connectors";
import { edgeTable, pgSourceEdge, pgTargetEdge } from "../fixtures/reconcile-edge";
import { harness } from "../harness";

const schema = `recon_${Date.now().toString(36)}`;
const conn = (side: "source" | "target") => ({ ...harness[side], password: harness.pgPassword });

/** Both sides open for the duration of `work`. */
const sides = <T>(work: (source: ReconcileSide, target: ReconcileSide) => Promise<T>) =>
  withPostgresSide(conn("source"), (source) => withPostgresSide(conn("target"), (target) => work(source, target)));

const edge = edgeTable({ schema, name: "edge" }, { schema, name: "edge" });

beforeAll(async () => {
  for (const side of ["source", "target"] as const) await query(side, `CREATE SCHEMA ${schema}`);
  await query("source", pgSourceEdge(`${schema}.edge`));
  await query("target", pgTargetEdge(`${schema}.edge`));
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
      reconcileTable(s, t, big, {
        segmentRows: 100,
        fetchRows: 20,
        onProgress: (e) => !e.done && levels.push(e.level),
      }),
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

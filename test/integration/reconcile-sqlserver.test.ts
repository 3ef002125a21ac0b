// reconcile with a SQL Server source. Here: the T-SQL it sends is replayed from recordings
// (test/recordings/sqlserver/reconcile-edge-*.json) against the harness's PostgreSQL target holding the same
// values; the recorded answers are the segment sums of those values' canonical text, which SQL Server must
// compute identically. With MSSQL_URL set (see sqlserver-live.test.ts), the same fixture rows are written to
// a real SQL Server and compared with PostgreSQL's; MSSQL_RECORD=1 then rewrites the recordings from it.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSqlServer } from "../../lib/sqlserver";
import { reconcileTable, withPostgresSide, type ReconcileSide } from "../../lib/reconcile";
import { query } from "../connectors";
import { ReplayClient, RecordingClient, type Exchange } from "../fakes/sql-recording";
import { edgeTable, pgTargetEdge, sqlServerSourceEdge } from "../fixtures/reconcile-edge";
import { harness, mssqlConnection } from "../harness";

const schema = `recon_ss_${Date.now().toString(36)}`;
const RECORDINGS = path.join(__dirname, "../recordings/sqlserver");
const recording = (name: string) =>
  JSON.parse(readFileSync(path.join(RECORDINGS, `reconcile-edge-${name}.json`), "utf8")) as Exchange[];
/** The SQL Server table the recordings name. */
const FIXTURE = { schema: "dbo", name: "edge_fixture" };
const table = () => edgeTable(FIXTURE, { schema, name: "edge" });
const target = <T>(work: (side: ReconcileSide) => Promise<T>) =>
  withPostgresSide({ ...harness.target, password: harness.pgPassword }, work);

beforeAll(async () => {
  await query("target", `CREATE SCHEMA ${schema}`);
  await query("target", pgTargetEdge(`${schema}.edge`));
});
afterAll(() => query("target", `DROP SCHEMA IF EXISTS ${schema} CASCADE`));

describe("reconcile from a SQL Server source, replayed", () => {
  it("sends the recorded T-SQL and matches PostgreSQL's sums for the same values", async () => {
    const replay = new ReplayClient(recording("match"));
    const source: ReconcileSide = { engine: "sqlserver", query: (sql) => replay.query(sql) };
    const report = await target((pg) => reconcileTable(source, pg, table()));
    expect(report).toMatchObject({ sourceRows: 4, targetRows: 4, severity: "OK", missing: [], extra: [], changed: [] });
    expect(replay.unused).toEqual([]);
    expect(replay.sent[0].sql).toContain("COLLATE Latin1_General_100_BIN2_UTF8");
  });

  it("finds the changed row by key through the recorded row hashes", async () => {
    const replay = new ReplayClient(recording("changed"));
    const source: ReconcileSide = { engine: "sqlserver", query: (sql) => replay.query(sql) };
    const report = await target((pg) => reconcileTable(source, pg, table()));
    expect(report).toMatchObject({ missing: [], extra: [], changed: ["1"], severity: "CRITICAL" });
    expect(replay.unused).toEqual([]);
  });
});

const url = process.env.MSSQL_URL;
describe.skipIf(!url)("reconcile from a live SQL Server (skipped: set MSSQL_URL to run it)", () => {
  const conn = url ? mssqlConnection(url) : undefined;
  const sql = (text: string) => withSqlServer(conn!, (client) => client.query(text));
  const drop = () => sql(`IF OBJECT_ID(N'dbo.${FIXTURE.name}') IS NOT NULL DROP TABLE dbo.${FIXTURE.name}`);
  afterAll(drop);

  it("finds no difference between SQL Server's rows and PostgreSQL's", async () => {
    await drop();
    for (const statement of sqlServerSourceEdge(`dbo.${FIXTURE.name}`).split(";")) await sql(statement);
    const report = await withSqlServer(conn!, async (client) => {
      const recorder = new RecordingClient(client);
      const source: ReconcileSide = { engine: "sqlserver", query: (text) => recorder.query(text) };
      const result = await target((pg) => reconcileTable(source, pg, table()));
      if (process.env.MSSQL_RECORD === "1") recorder.save(path.join(RECORDINGS, "reconcile-edge-match.json"), []);
      return result;
    });
    expect(report).toMatchObject({ sourceRows: 4, targetRows: 4, severity: "OK" });
  });
});

// SqlServerCdc against a real SQL Server, for machines that have one: set MSSQL_URL, for example
//   MSSQL_URL='mssql://sa:Passw0rd!@127.0.0.1:1433/inventory?trustServerCertificate=true'
// (SQL Server 2019+ with SQL Server Agent running). With MSSQL_RECORD=1 it also rewrites the recordings
// the unit tests replay (test/recordings/sqlserver/live-*.json). Skipped when MSSQL_URL is not set.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { withSqlServer, type SqlServerConnection } from "../../lib/sqlserver";
import { readSqlServerCdc } from "../../lib/sqlserver-cdc-sql";
import { sqlServerCdcProvider as provider, type SqlServerCdcInputs } from "../../providers/sqlserver-cdc";
import { RecordingClient } from "../fakes/sql-recording";
import { mssqlConnection } from "../harness";

const url = process.env.MSSQL_URL;

describe.skipIf(!url)("SqlServerCdc against a live SQL Server (skipped: set MSSQL_URL to run it)", () => {
  const conn = url ? mssqlConnection(url) : ({} as SqlServerConnection);
  const table = `cdc_live_${Date.now().toString(36)}`;
  const inputs: SqlServerCdcInputs = {
    ...conn,
    createDatabase: false,
    tables: [{ schema: "dbo", name: table }],
    pollingIntervalSeconds: 5,
    maxTransactions: 500,
    retentionMinutes: 4320,
    agentNotRunning: "fail",
    disableOnDelete: true,
    connectorLogin: `${table}_login`,
    connectorPassword: "Live-Test-Pw-1!",
  };
  const sql = (text: string) => withSqlServer(conn, (client) => client.query(text));

  it("enables CDC, reads a table disabled by hand as drift, repairs it, and disables it on delete", async () => {
    await sql(`CREATE TABLE dbo.${table} (id int PRIMARY KEY, name nvarchar(50))`);
    try {
      const checked = await provider.check({} as SqlServerCdcInputs, inputs);
      expect(checked.failures).toEqual([]);
      let state = (await provider.create(inputs)).outs!;
      expect(state.cdcEnabled).toBe(true);
      expect(state.captureInstances.map((c) => c.table)).toContain(table);
      expect((await provider.diff("x", state, inputs)).changes).toBe(false);

      await withSqlServer(conn, (client) =>
        client.query(
          "EXEC sys.sp_cdc_disable_table @source_schema = N'dbo', @source_name = @t, @capture_instance = N'all'",
          { t: table },
        ),
      );
      state = (await provider.read("x", state)).props!;
      expect(state.captureInstances.map((c) => c.table)).not.toContain(table);
      expect((await provider.diff("x", state, inputs)).changes).toBe(true);
      state = (await provider.update("x", state, inputs)).outs!;
      expect(state.captureInstances.map((c) => c.table)).toContain(table);

      if (process.env.MSSQL_RECORD === "1") {
        await withSqlServer(conn, async (real) => {
          const recorder = new RecordingClient(real);
          await readSqlServerCdc(recorder, inputs.connectorLogin);
          recorder.save(path.join(__dirname, "../recordings/sqlserver/live-read.json"), [conn.password]);
        });
      }
      await provider.delete("x", state);
    } finally {
      await sql(`DROP TABLE IF EXISTS dbo.${table}`);
    }
  }, 300_000);
});

// SqlServerCdc's T-SQL against the recorded fake of the driver (no SQL Server runs here; the live test in
// test/integration/sqlserver-live.test.ts runs the same code against one when MSSQL_URL is set).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  applySqlServerCdc,
  createDatabaseIfMissing,
  checkSqlServerCdcInputs,
  disableSqlServerCdc,
  readSqlServerCdc,
  sqlServerCdcDrift,
  type SqlServerCdcInputs,
} from "../../providers/sqlserver-cdc";
import { ReplayClient, type Exchange } from "../fakes/sql-recording";

const recording = (name: string): Exchange[] =>
  JSON.parse(readFileSync(path.join(__dirname, "../recordings/sqlserver", `${name}.json`), "utf8")) as Exchange[];

const hostile = "x]; DROP TABLE y--";
const inputs: SqlServerCdcInputs = {
  host: "mssql",
  port: 1433,
  database: "inventory",
  user: "sa",
  password: "Sa-Secret-1",
  encrypt: true,
  trustServerCertificate: true,
  createDatabase: false,
  tables: [
    { schema: "dbo", name: "customers" },
    { schema: "dbo", name: hostile, role: "cdc_reader_role" },
  ],
  pollingIntervalSeconds: 5,
  maxTransactions: 500,
  retentionMinutes: 4320,
  agentNotRunning: "fail",
  disableOnDelete: true,
  connectorLogin: "debezium",
  connectorPassword: "Conn-Secret-1",
};
const secrets = [inputs.password, inputs.connectorPassword];

describe("SqlServerCdc T-SQL (recorded driver)", () => {
  it("creates a missing database in one statement, its name quoted on the server", async () => {
    const statement =
      "IF DB_ID(@database) IS NULL BEGIN DECLARE @sql nvarchar(max) = N'CREATE DATABASE ' + QUOTENAME(@database); EXEC (@sql); END";
    const client = new ReplayClient([{ sql: statement, params: { database: hostile } }]);
    await createDatabaseIfMissing(client, hostile);
    expect(client.unused).toEqual([]);
  });

  it("on a fresh database: enables CDC on it, then on each table, sets the jobs, creates the connector login", async () => {
    const client = new ReplayClient(recording("create-fresh-database"), secrets);
    expect(await applySqlServerCdc(client, inputs)).toEqual([]);
    expect(client.unused).toEqual([]);
    const procedures = client.sent.map((s) => s.sql.match(/sys\.sp_cdc_\w+|CREATE LOGIN|GRANT SELECT|ADD MEMBER/)?.[0]);
    expect(procedures.filter(Boolean)).toEqual([
      "sys.sp_cdc_enable_db",
      "sys.sp_cdc_enable_table",
      "sys.sp_cdc_enable_table",
      "sys.sp_cdc_change_job",
      "sys.sp_cdc_change_job",
      "CREATE LOGIN",
      "GRANT SELECT",
      "GRANT SELECT",
      "ADD MEMBER",
    ]);
  });

  it("sends every name and the password as a parameter: a hostile table name never reaches the statement text", async () => {
    const client = new ReplayClient(recording("create-fresh-database"), secrets);
    await applySqlServerCdc(client, inputs);
    for (const { sql } of client.sent) {
      expect(sql).not.toContain(hostile);
      expect(sql).not.toContain("customers");
      expect(sql).not.toContain(inputs.connectorPassword);
    }
    expect(client.sent.some((s) => s.params.table === hostile)).toBe(true);
    // The default capture instance is a plain name, whatever the table is called.
    expect(client.sent.find((s) => s.params.table === hostile && "instance" in s.params)?.params.instance).toBe(
      "dbo_x___DROP_TABLE_y__",
    );
  });

  it("on a database already in sync: enables nothing, only re-applies the job settings", async () => {
    const client = new ReplayClient(recording("create-already-enabled"), secrets);
    const one = { ...inputs, tables: [inputs.tables[0]], connectorLogin: "", connectorPassword: "" };
    await applySqlServerCdc(client, one);
    expect(client.unused).toEqual([]);
    expect(client.sent.filter((s) => s.sql.startsWith("EXEC")).map((s) => s.sql.match(/sp_cdc_\w+/)![0])).toEqual([
      "sp_cdc_change_job",
      "sp_cdc_change_job",
    ]);
  });

  it("a table added is enabled alone; a table removed is disabled alone, the database keeping CDC", async () => {
    const one = { ...inputs, tables: [inputs.tables[0]], connectorLogin: "", connectorPassword: "" };
    const added = new ReplayClient(recording("update-table-added"), secrets);
    await applySqlServerCdc(added, { ...one, tables: [...one.tables, { schema: "dbo", name: "orders" }] });
    expect(added.sent.filter((s) => s.sql.includes("sp_cdc_enable_table")).map((s) => s.params.table)).toEqual([
      "orders",
    ]);

    const removed = new ReplayClient(recording("update-table-removed"), secrets);
    await disableSqlServerCdc(removed, { ...one, tables: [{ schema: "dbo", name: "orders" }] });
    expect(removed.unused).toEqual([]);
    expect(
      removed.sent.filter((s) => s.sql.startsWith("EXEC")).map((s) => [s.sql.match(/sp_cdc_\w+/)![0], s.params.table]),
    ).toEqual([["sp_cdc_disable_table", "orders"]]);
  });

  it("fails before changing anything when SQL Server Agent is not running", async () => {
    const client = new ReplayClient(recording("create-agent-stopped"), secrets);
    await expect(applySqlServerCdc(client, inputs)).rejects.toThrow(
      "SQL Server Agent is not running: the capture job will not run and the connector reports 'No maximum LSN recorded'",
    );
    expect(client.sent.filter((s) => s.sql.startsWith("EXEC"))).toEqual([]);
  });

  it("warns instead when told to, and carries on", async () => {
    const client = new ReplayClient(recording("create-agent-stopped"), secrets);
    // The recording ends after the agent check: carrying on reaches past it.
    await expect(applySqlServerCdc(client, { ...inputs, agentNotRunning: "warn" })).rejects.toThrow(
      "statement after the end of the recording: EXEC sys.sp_cdc_enable_db",
    );
  });

  it("reads a database restored without KEEP_CDC as drift", async () => {
    const client = new ReplayClient(recording("read-restored-without-keep-cdc"), secrets);
    const facts = await readSqlServerCdc(client, "debezium");
    expect(facts.cdcEnabled).toBe(false);
    expect(sqlServerCdcDrift(facts, inputs)).toEqual(["CDC is not enabled on the database"]);
  });

  it("a change of captured columns adds a second capture instance, then retires the first", async () => {
    const client = new ReplayClient(recording("update-captured-columns"), secrets);
    await applySqlServerCdc(client, {
      ...inputs,
      tables: [{ schema: "dbo", name: "customers", capturedColumns: ["id", "name", "email"] }],
      connectorLogin: "",
      connectorPassword: "",
    });
    const cdc = client.sent.filter((s) => /sp_cdc_(enable|disable)_table/.test(s.sql));
    expect(cdc.map((s) => [s.sql.match(/sp_cdc_\w+/)![0], s.params.instance, s.params.columns ?? null])).toEqual([
      ["sp_cdc_enable_table", "dbo_customers_v2", "[id], [name], [email]"],
      ["sp_cdc_disable_table", "dbo_customers", null],
    ]);
  });

  it("delete disables each capture instance, then the database, then drops the login", async () => {
    const client = new ReplayClient(recording("delete"), secrets);
    await disableSqlServerCdc(client, inputs);
    expect(client.unused).toEqual([]);
    expect(client.sent.map((s) => s.sql.match(/sp_cdc_\w+|DROP LOGIN/)?.[0]).filter(Boolean)).toEqual([
      "sp_cdc_disable_table",
      "sp_cdc_disable_table",
      "sp_cdc_disable_db",
      "DROP LOGIN",
    ]);
  });

  it("check names each bad field", () => {
    const failures = checkSqlServerCdcInputs({
      ...inputs,
      port: 0,
      tables: [{ schema: "dbo", name: "t", captureInstance: "bad name" }],
      retentionMinutes: 0,
      agentNotRunning: "ignore" as "warn",
      connectorPassword: "",
    });
    expect(failures.map((f) => f.property)).toEqual([
      "port",
      "tables",
      "retentionMinutes",
      "agentNotRunning",
      "connectorPassword",
    ]);
  });
});

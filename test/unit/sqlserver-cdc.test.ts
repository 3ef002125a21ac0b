// SqlServerCdc's T-SQL against the recorded fake of the driver (no SQL Server runs here; the live test in
// test/integration/sqlserver-live.test.ts runs the same code against one when MSSQL_URL is set), its input
// checks, and its diff. The provider's own connections go to a fake database that notes what reached it.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it, vi } from "vitest";
import {
  captureOptionChanges,
  nextCaptureInstance,
  retirableInstances,
  type CdcTable,
} from "../../lib/capture-instances";
import { committedLsn, normalLsn } from "../../lib/connector-lsn";
import {
  applySqlServerCdc,
  createDatabaseIfMissing,
  disableSqlServerCdc,
  maxCdcLsn,
  positionLost,
  readSqlServerCdc,
  sqlServerCdcDrift,
} from "../../lib/sqlserver-cdc-sql";
import { sqlServerCdcProvider, type SqlServerCdcInputs, type SqlServerCdcState } from "../../providers/sqlserver-cdc";
import { ReplayClient, type Exchange } from "../fakes/sql-recording";

/** What the provider's connections (withSqlServer) sent: the password each connected with, each statement. */
const database = vi.hoisted(() => ({
  passwords: [] as string[],
  sent: [] as { sql: string; params: Record<string, unknown> }[],
}));
vi.mock("../../lib/sqlserver", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../lib/sqlserver")>();
  // A database with CDC on dbo.customers (id, name), both jobs at their defaults and the connector's login.
  const answer = (sql: string): Record<string, unknown>[] => {
    if (sql.includes("is_cdc_enabled")) return [{ is_cdc_enabled: true }];
    if (sql.includes("dm_server_services")) return [{ status_desc: "Running" }];
    if (sql.startsWith("SELECT 1 AS found FROM sys.server_principals")) return [{ found: 1 }];
    if (sql.includes("cdc.change_tables")) {
      const instance = { schema: "dbo", table: "customers", capture_instance: "dbo_customers" };
      const more = { start_lsn: "0000002D00000A280003", role_name: null, supports_net_changes: false };
      return ["id", "name"].map((column_name) => ({ ...instance, ...more, column_name }));
    }
    if (sql.includes("cdc_jobs")) {
      return [
        { job_type: "capture", pollinginterval: "5", maxtrans: 500, retention: "0" },
        { job_type: "cleanup", pollinginterval: "0", maxtrans: 0, retention: "4320" },
      ];
    }
    return [];
  };
  const withSqlServer: typeof original.withSqlServer = (conn, work) => {
    database.passwords.push(conn.password);
    return work({
      query: <T>(sql: string, params: Record<string, unknown> = {}) => {
        database.sent.push({ sql, params });
        return Promise.resolve(answer(sql) as T[]);
      },
    });
  };
  return { ...original, withSqlServer };
});

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

  it("reads msdb's bigint job settings, which the driver returns as text, as numbers", async () => {
    const exchanges = recording("update-retire-old-instance").slice(0, 5);
    exchanges[4] = {
      ...exchanges[4],
      rows: [
        { job_type: "capture", pollinginterval: "5", maxtrans: 500, retention: "0" },
        { job_type: "cleanup", pollinginterval: "0", maxtrans: 0, retention: "4320" },
      ],
    };
    const facts = await readSqlServerCdc(new ReplayClient(exchanges), "");
    expect(facts.jobs).toEqual({ capture: { pollingInterval: 5, maxTrans: 500 }, cleanup: { retention: 4320 } });
  });

  it("reads a database restored without KEEP_CDC as drift", async () => {
    const client = new ReplayClient(recording("read-restored-without-keep-cdc"), secrets);
    const facts = await readSqlServerCdc(client, "debezium");
    expect(facts.cdcEnabled).toBe(false);
    expect(sqlServerCdcDrift(facts, inputs)).toEqual(["CDC is not enabled on the database"]);
  });

  // Debezium's online schema update, one recording per step: a new capture instance, the old one kept while
  // the connector has not reached the new one's start, retired once it has.
  const rotated = {
    ...inputs,
    tables: [{ schema: "dbo", name: "customers", capturedColumns: ["id", "name", "email"] }],
    connectorLogin: "",
    connectorPassword: "",
  };
  const cdcCalls = (client: ReplayClient) =>
    client.sent
      .filter((s) => /sp_cdc_(enable|disable)_table/.test(s.sql))
      .map((s) => [s.sql.match(/sp_cdc_\w+/)![0], s.params.instance, s.params.columns ?? null]);

  it("a change of captured columns adds a second capture instance and keeps the first while the connector is behind", async () => {
    const client = new ReplayClient(recording("update-captured-columns"), secrets);
    const warnings = await applySqlServerCdc(client, {
      ...rotated,
      connector: { cluster: { url: "http://c:8083" }, name: "src" },
    });
    expect(client.unused).toEqual([]);
    expect(cdcCalls(client)).toEqual([["sp_cdc_enable_table", "dbo_customers_v2", "[id], [name], [email]"]]);
    expect(warnings).toEqual([
      "dbo.customers: capture instance dbo_customers_v2 created; dbo_customers is kept until the connector has switched to it, and a later pulumi up retires it",
    ]);
  });

  it("retires the old capture instance once the connector's position has passed the new one's start", async () => {
    const client = new ReplayClient(recording("update-retire-old-instance"), secrets);
    // dbo_customers_v2 starts at 0000002D00000A580003; Debezium's offset names a later LSN.
    expect(await applySqlServerCdc(client, rotated, normalLsn("0000002d:00000a60:0001"))).toEqual([]);
    expect(client.unused).toEqual([]);
    expect(cdcCalls(client)).toEqual([["sp_cdc_disable_table", "dbo_customers", null]]);
  });

  it("keeps both while the connector is before the new one's start, and refuses a third set of columns", async () => {
    const behind = normalLsn("0000002d:00000a57:ffff");
    const kept = new ReplayClient(recording("update-retire-old-instance").slice(0, 5), secrets);
    await expect(applySqlServerCdc(kept, rotated, behind)).rejects.toThrow(
      "statement after the end of the recording: SELECT is_cdc_enabled",
    );
    expect(cdcCalls(kept)).toEqual([]);

    const again = new ReplayClient(recording("update-columns-while-two-instances"), secrets);
    const third = { ...rotated, tables: [{ ...rotated.tables[0], capturedColumns: ["id", "name", "email", "phone"] }] };
    await expect(applySqlServerCdc(again, third, behind)).rejects.toThrow(
      "dbo.customers already has two capture instances (dbo_customers, dbo_customers_v2) and the connector has not passed " +
        "dbo_customers_v2's start (LSN 0000002d00000a580003; the connector is at LSN 0000002d00000a57ffff)",
    );
    expect(cdcCalls(again)).toEqual([]);
  });

  it("reads the connector's committed LSN from its offsets, and which old instances it no longer needs", async () => {
    const offsets = {
      offsets: [
        { partition: { server: "inventory", database: "other" }, offset: { commit_lsn: "ffffffff:ffffffff:ffff" } },
        {
          partition: { server: "inventory", database: "inventory" },
          offset: { commit_lsn: "0000002d:00000a58:0003", change_lsn: "x" },
        },
      ],
    };
    expect(committedLsn(offsets, "inventory")).toBe("0000002d00000a580003");
    expect(committedLsn({ offsets: [] }, "inventory")).toBeNull();
    const facts = await readSqlServerCdc(new ReplayClient(recording("update-retire-old-instance").slice(0, 5)), "");
    expect(facts.captureInstances.map((ci) => [ci.captureInstance, ci.startLsn])).toEqual([
      ["dbo_customers", "0000002d00000a280003"],
      ["dbo_customers_v2", "0000002d00000a580003"],
    ]);
    // At the new instance's start exactly, the connector reads only the new one.
    expect(retirableInstances(facts, rotated.tables, "0000002d00000a580003")).toEqual(["dbo_customers"]);
    expect(retirableInstances(facts, rotated.tables, "0000002d00000a57ffff")).toEqual([]);
    expect(retirableInstances(facts, rotated.tables, null)).toEqual([]);
    expect(
      sqlServerCdcDrift({ ...facts, retirableInstances: ["dbo_customers"] }, { ...rotated, tables: rotated.tables }),
    ).toContain("capture instance dbo_customers is no longer read by the connector (pulumi up retires it)");
    // Captured columns compare as sets: the declaration's order is not SQL Server's.
    const reordered = { ...rotated, tables: [{ ...rotated.tables[0], capturedColumns: ["email", "id", "name"] }] };
    expect(sqlServerCdcDrift({ ...facts, retirableInstances: [] }, reordered)).toEqual([]);
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
});

describe("SqlServerCdc inputs (zod)", () => {
  const check = (news: Record<string, unknown>) =>
    sqlServerCdcProvider.check({} as SqlServerCdcInputs, news as unknown as SqlServerCdcInputs);
  const given = { host: "mssql", port: 1433, database: "inventory", user: "sa", password: "pw", tables: inputs.tables };

  it("fills in the defaults", async () => {
    const { inputs: checked, failures } = await check(given);
    expect(failures).toEqual([]);
    expect(checked).toEqual({
      ...given,
      encrypt: true,
      trustServerCertificate: false,
      createDatabase: false,
      pollingIntervalSeconds: 5,
      maxTransactions: 500,
      retentionMinutes: 4320,
      agentNotRunning: "fail",
      disableOnDelete: true,
      connectorLogin: "",
      connectorPassword: "",
    });
  });

  it("fails once per bad property, naming the field and what is allowed", async () => {
    const { failures } = await check({
      ...given,
      host: "",
      port: 0,
      tables: [
        { schema: "dbo", name: "t", captureInstance: "bad name" },
        { schema: "", name: "u" },
      ],
      pollingIntervalSeconds: 1.5,
      retentionMinutes: 0,
      agentNotRunning: "ignore",
      connectorLogin: "debezium",
      connector: { cluster: {}, name: "src" },
    });
    expect(failures).toEqual([
      { property: "host", reason: "must be a name of 1 to 128 characters" },
      { property: "port", reason: "must be a port number from 1 to 65535, got '0'" },
      {
        property: "tables",
        reason:
          "tables[0].captureInstance: may hold only letters, digits and _ (at most 100); " +
          "tables[1].schema: must be a name of 1 to 128 characters",
      },
      { property: "pollingIntervalSeconds", reason: "must be a whole number of seconds above 0" },
      { property: "retentionMinutes", reason: "must be from 1 to 52494800 minutes (SQL Server's limit)" },
      { property: "agentNotRunning", reason: `must be "fail" or "warn", got 'ignore'` },
      {
        property: "connector",
        reason: "connector.cluster.url: must be an http(s) URL of a Kafka Connect worker, got 'undefined'",
      },
      { property: "connectorPassword", reason: "is required with connectorLogin" },
    ]);
  });

  it("an empty table list, and a connector login without its password, are refused", async () => {
    const { failures } = await check({ ...given, tables: [], connectorLogin: "debezium" });
    expect(failures).toEqual([
      { property: "tables", reason: "must list at least one table" },
      { property: "connectorPassword", reason: "is required with connectorLogin" },
    ]);
  });

  it("skips values still unknown at preview (outputs of resources not created yet)", async () => {
    const { failures } = await check({
      ...given,
      host: unknownValue,
      port: unknownValue,
      tables: [{ schema: "dbo", name: unknownValue, capturedColumns: unknownValue }],
      connectorLogin: unknownValue,
      connector: { cluster: unknownValue, name: "src" },
    });
    expect(failures).toEqual([]);
  });

  it("keeps every field of the connector's cluster, credentials included", async () => {
    const cluster = { url: "https://c:8083", token: "t0k3n", caCert: "PEM", headers: { "X-A": "b" } };
    const { inputs: checked } = await check({ ...given, connector: { cluster, name: "src" } });
    expect(checked?.connector).toEqual({ cluster, name: "src" });
  });
});

/** dbo.customers' capture instance as SQL Server reports it: columns id and name, no gating role, no net changes. */
const CUSTOMERS_INSTANCE = {
  schema: "dbo",
  table: "customers",
  captureInstance: "dbo_customers",
  startLsn: "0000002d00000a280003",
  columns: ["id", "name"],
  role: null,
  supportsNetChanges: false,
};

describe("SqlServerCdc diff", () => {
  // The state create leaves on a database in sync with the inputs.
  const facts = {
    cdcEnabled: true,
    agentRunning: true,
    captureInstances: [CUSTOMERS_INSTANCE],
    jobs: { capture: { pollingInterval: 5, maxTrans: 500 }, cleanup: { retention: 4320 } },
    connectorLoginExists: true,
    connectorLsn: null,
    retirableInstances: [],
    warnings: [],
  };
  const declared: SqlServerCdcInputs = {
    ...inputs,
    tables: [{ schema: "dbo", name: "customers", capturedColumns: ["id", "name"] }],
    connector: { cluster: { url: "http://connect:8083", password: "Connect-Secret-1" }, name: "src" },
  };
  // As versionedProvider sees a state this version wrote, through the same shim.
  const written = (state: object): Record<string, unknown> => ({ ...state, providerVersion: 1, __provider: "shim" });
  const diff = (olds: Record<string, unknown>, news: SqlServerCdcInputs) =>
    sqlServerCdcProvider.diff(
      "id",
      olds as unknown as SqlServerCdcState,
      { ...news, __provider: "shim" } as SqlServerCdcInputs,
    );

  it("a changed password, connector password or connector credential is a change in place, never a replacement", async () => {
    const state = written({ ...declared, ...facts });
    expect(await diff(state, declared)).toEqual({ changes: false, replaces: [] });
    for (const rotated of [
      { ...declared, password: "Sa-Secret-2" },
      { ...declared, connectorPassword: "Conn-Secret-2" },
      {
        ...declared,
        connector: { ...declared.connector!, cluster: { ...declared.connector!.cluster, password: "x" } },
      },
    ]) {
      expect(await diff(state, rotated)).toEqual({ changes: true, replaces: [] });
    }
    expect((await diff(state, { ...declared, database: "other" })).replaces).toEqual(["database"]);
  });

  it("update connects with the new passwords and stores them; read and delete then connect with them", async () => {
    const current = { ...declared, connector: undefined };
    const rotated = { ...current, password: "Sa-Secret-2", connectorPassword: "Conn-Secret-2" };
    database.passwords.length = 0;
    database.sent.length = 0;
    const { outs } = await sqlServerCdcProvider.update(
      "id",
      written({ ...current, ...facts }) as unknown as SqlServerCdcState,
      rotated,
    );
    expect(outs).toMatchObject({ password: "Sa-Secret-2", connectorPassword: "Conn-Secret-2", providerVersion: 1 });
    // The connector's login gets its new password.
    const login = database.sent.find((s) => s.sql.includes("CREATE LOGIN"));
    expect(login?.params).toEqual({ login: "debezium", password: "Conn-Secret-2" });
    expect(await diff(written(outs!), rotated)).toEqual({ changes: false, replaces: [] });

    const { props } = await sqlServerCdcProvider.read("id", outs);
    expect(props?.password).toBe("Sa-Secret-2");
    await sqlServerCdcProvider.delete("id", outs!);
    expect(database.passwords.length).toBeGreaterThan(2);
    expect(new Set(database.passwords)).toEqual(new Set(["Sa-Secret-2"]));
  });

  it("a signalling table declared is made when missing, captured, and the connector login may insert into it", async () => {
    const current = { ...declared, connector: undefined };
    const signalTable = { schema: "dbo", name: "inventory_cdc_signal" };
    database.sent.length = 0;
    const olds = written({ ...current, ...facts }) as unknown as SqlServerCdcState;
    // Declaring it (a stack from before signalling) is a change in place.
    expect(await diff(olds as unknown as Record<string, unknown>, { ...current, signalTable })).toEqual({
      changes: true,
      replaces: [],
    });
    await sqlServerCdcProvider.update("id", olds, { ...current, signalTable });
    const steps = database.sent
      .map((s) => {
        if (s.sql.includes("CREATE TABLE")) return `create ${String(s.params.table)}`;
        if (s.sql.includes("sp_cdc_enable_table")) return `capture ${String(s.params.table)}`;
        if (s.sql.includes("GRANT")) return `${/GRANT (\w+)/.exec(s.sql)![1]} ${String(s.params.table)}`;
        return undefined;
      })
      .filter(Boolean);
    // dbo.customers is captured already (the fake database's one capture instance).
    expect(steps).toEqual([
      `create ${signalTable.name}`,
      `capture ${signalTable.name}`,
      "SELECT customers",
      `SELECT ${signalTable.name}`,
      `INSERT ${signalTable.name}`,
    ]);
    // The table's name reaches the server as a parameter, quoted there.
    for (const { sql } of database.sent) expect(sql).not.toContain(signalTable.name);
    // Delete drops it after disabling its capture.
    database.sent.length = 0;
    await sqlServerCdcProvider.delete("id", { ...olds, signalTable });
    expect(database.sent.some((s) => s.sql.includes("DROP TABLE") && s.params.table === signalTable.name)).toBe(true);
  });

  it("the connector's position before every capture instance's start is lost, as Debezium judges it at start", () => {
    const instances = (...starts: (string | null)[]) => ({
      captureInstances: starts.map((startLsn, i) => ({ ...CUSTOMERS_INSTANCE, captureInstance: `ci${i}`, startLsn })),
    });
    // The cleanup job moved every start past the connector.
    expect(positionLost(instances("0000002d00000b000001", "0000002d00000c000001"), "0000002d00000a280003")).toBe(true);
    // One instance still starting at or before it (Debezium takes the minimum): not lost.
    expect(positionLost(instances("0000002d00000a280003", "0000002d00000c000001"), "0000002d00000a280003")).toBe(false);
    // No position yet, a zero position, or no start set yet: nothing to judge.
    expect(positionLost(instances("0000002d00000b000001"), null)).toBe(false);
    expect(positionLost(instances("0000002d00000b000001"), "00000000000000000000")).toBe(false);
    expect(positionLost(instances(null), "0000002d00000a280003")).toBe(false);
    const lost = { ...facts, connectorLsn: "0000002d00000a280003", positionLost: true };
    expect(sqlServerCdcDrift(lost, declared)).toEqual([
      "the connector's position 0000002d00000a280003 is before the oldest change data kept: the cleanup job " +
        "removed changes it had not read (pulumi up moves it on and backfills the tables)",
    ]);
  });

  it("reads the database's newest LSN as 20 hex digits, or null before the capture job has run", async () => {
    const statement = "SELECT CONVERT(char(20), sys.fn_cdc_get_max_lsn(), 2) AS lsn";
    expect(await maxCdcLsn(new ReplayClient([{ sql: statement, rows: [{ lsn: "0000002D00000AF80003" }] }]))).toBe(
      "0000002d00000af80003",
    );
    expect(await maxCdcLsn(new ReplayClient([{ sql: statement, rows: [{ lsn: null }] }]))).toBeNull();
  });

  it("a state written before versions were recorded (de520ab) is unchanged against the same config's inputs", async () => {
    // v1: no providerVersion; tables in the component's key order, as that check passed them through.
    const v1 = {
      ...facts,
      host: "mssql",
      port: 1433,
      database: "inventory",
      user: "sa",
      password: "Sa-Secret-1",
      connector: { name: "src", cluster: { url: "http://connect:8083" } },
      tables: [{ name: "customers", capturedColumns: ["id", "name"], schema: "dbo" }],
      encrypt: true,
      trustServerCertificate: true,
      createDatabase: false,
      pollingIntervalSeconds: 5,
      maxTransactions: 500,
      retentionMinutes: 4320,
      agentNotRunning: "fail",
      disableOnDelete: true,
      connectorLogin: "",
      connectorPassword: "",
      __provider: "shim",
    };
    const { inputs: news, failures } = await sqlServerCdcProvider.check(
      {} as SqlServerCdcInputs,
      {
        host: "mssql",
        port: 1433,
        database: "inventory",
        user: "sa",
        password: "Sa-Secret-1",
        trustServerCertificate: true,
        tables: [{ schema: "dbo", name: "customers", capturedColumns: ["id", "name"] }],
        connector: { cluster: { url: "http://connect:8083" }, name: "src" },
      } as unknown as SqlServerCdcInputs,
    );
    expect(failures).toEqual([]);
    // Only the stored version differs: a change, which versionedProvider's update writes without a call.
    expect(await diff(v1, news!)).toEqual({ changes: true, replaces: [] });
    expect(await diff({ ...v1, providerVersion: 1 }, news!)).toEqual({ changes: false, replaces: [] });
  });
});

describe("a captured table's gating role and net changes", () => {
  const instance = CUSTOMERS_INSTANCE;
  const table: CdcTable = { schema: "dbo", name: "customers", capturedColumns: ["id", "name"] };

  it("agree when neither is declared and the instance has none", () => {
    expect(captureOptionChanges(table, instance)).toEqual([]);
    expect(nextCaptureInstance(table, [instance], ["id", "name"], null, true)).toEqual({});
  });

  it("declared otherwise than the instance has are drift, and refused by up with the columns unchanged", () => {
    const declared = { ...table, role: "cdc_readers", supportsNetChanges: true };
    expect(captureOptionChanges(declared, instance)).toEqual([
      "gating role none, declared cdc_readers",
      "net changes off, declared on",
    ]);
    expect(() => nextCaptureInstance(declared, [instance], ["id", "name"], null, true)).toThrow(
      "dbo.customers: capture instance dbo_customers has gating role none, declared cdc_readers and net changes off, declared on: " +
        "a capture instance keeps the options it was made with; change them together with the captured columns, or declare what it has",
    );
    // With new columns, the successor instance is made with the declared options (enableTable passes them).
    expect(nextCaptureInstance(declared, [instance], ["id", "name", "email"], null, true).create).toBe(
      "dbo_customers_v2",
    );
  });
});

// The T-SQL of SQL Server change data capture, as plain functions over a SqlClient (run against a real
// server, or replayed from a recording): read a database's CDC state (and what SqlServerCdc records of it),
// bring it to a declaration, compare the two, disable it again. Every name travels as a parameter; DDL that takes no parameters is built by
// QUOTENAME on the server.
import { isDeepStrictEqual } from "node:util";
import {
  captureOptionChanges,
  defaultInstance,
  mayRetireOldest,
  nextCaptureInstance,
  ofTable,
  retirableInstances,
  sameColumns,
  type CaptureInstance,
  type CdcTable,
} from "./capture-instances";
import { normalLsn, type SourceConnectorRef } from "./connector-lsn";
import { bracketed, type SqlClient } from "./sqlserver";

/** What the database itself says about its CDC. */
export interface SqlServerDatabaseFacts {
  cdcEnabled: boolean;
  agentRunning: boolean;
  captureInstances: CaptureInstance[];
  jobs: { capture?: { pollingInterval: number; maxTrans: number }; cleanup?: { retention: number } };
  connectorLoginExists: boolean;
}

/** What SqlServerCdc records besides its inputs: the database's facts and what the connector allows. */
export interface SqlServerCdcFacts extends SqlServerDatabaseFacts {
  /** The connector's committed position (Debezium's commit_lsn), when it has one. */
  connectorLsn: string | null;
  /** Old capture instances the connector no longer needs (it passed their successor's start): `up` retires them. */
  retirableInstances: string[];
  /**
   * The connector's position is before the oldest change data the database keeps (the cleanup job removed
   * changes it had not read): Debezium refuses to resume there, and `up` moves it on and backfills.
   */
  positionLost: boolean;
  /** Warnings of the last create or update (for example, Agent not running with agentNotRunning=warn). */
  warnings: string[];
}

/** What a database's CDC is brought to. */
export interface CdcDeclaration {
  /** The tables to capture. */
  readonly tables: readonly CdcTable[];
  /** Capture job: seconds between scans of the log. */
  readonly pollingIntervalSeconds: number;
  /** Capture job: transactions per scan. */
  readonly maxTransactions: number;
  /** Cleanup job: minutes change data is kept. */
  readonly retentionMinutes: number;
  /** When SQL Server Agent is not running: fail before changing anything, or warn and carry on. */
  readonly agentNotRunning: "fail" | "warn";
  /** Login (and database user) for the connector; "" for none. */
  readonly connectorLogin: string;
  /** Its password. */
  readonly connectorPassword: string;
  /** The source connector reading the database, when one is named (its position retires old instances). */
  readonly connector?: SourceConnectorRef;
  /**
   * Debezium's signalling table (signal.data.collection), made when missing and captured like the tables:
   * the connector reads signals from its change data, and writes its snapshot watermarks there. Default: none.
   */
  readonly signalTable?: { readonly schema: string; readonly name: string };
}

/** The tables CDC captures: the declared ones and the signalling table. */
const capturedTables = (declared: Pick<CdcDeclaration, "tables" | "signalTable">): readonly CdcTable[] =>
  declared.signalTable ? [...declared.tables, declared.signalTable] : declared.tables;

/** Reads CDC state of the current database. */
export async function readSqlServerCdc(client: SqlClient, connectorLogin: string): Promise<SqlServerDatabaseFacts> {
  const [db] = await client.query<{ is_cdc_enabled: boolean }>(
    "SELECT is_cdc_enabled FROM sys.databases WHERE name = DB_NAME()",
  );
  const agent = await client.query<{ status_desc: string }>(
    "SELECT status_desc FROM sys.dm_server_services WHERE servicename LIKE N'SQL Server Agent%'",
  );
  const login = await client.query("SELECT 1 AS found FROM sys.server_principals WHERE name = @login", {
    login: connectorLogin,
  });
  const facts: SqlServerDatabaseFacts = {
    cdcEnabled: Boolean(db?.is_cdc_enabled),
    agentRunning: agent.some((a) => a.status_desc === "Running"),
    captureInstances: [],
    jobs: {},
    connectorLoginExists: connectorLogin !== "" && login.length > 0,
  };
  if (!facts.cdcEnabled) return facts;
  const instances = await client.query<{
    schema: string;
    table: string;
    capture_instance: string;
    start_lsn: string | null;
    role_name: string | null;
    supports_net_changes: boolean;
    column_name: string | null;
  }>(
    `SELECT s.name AS [schema], t.name AS [table], ct.capture_instance, CONVERT(char(20), ct.start_lsn, 2) AS start_lsn,
            ct.role_name, ct.supports_net_changes, cc.column_name
     FROM cdc.change_tables ct
     JOIN sys.tables t ON t.object_id = ct.source_object_id
     JOIN sys.schemas s ON s.schema_id = t.schema_id
     LEFT JOIN cdc.captured_columns cc ON cc.object_id = ct.object_id
     ORDER BY ct.create_date, ct.capture_instance, cc.column_ordinal`,
  );
  for (const row of instances) {
    let ci = facts.captureInstances.find((c) => c.captureInstance === row.capture_instance);
    if (!ci) {
      ci = {
        schema: row.schema,
        table: row.table,
        captureInstance: row.capture_instance,
        startLsn: row.start_lsn === null ? null : normalLsn(row.start_lsn),
        columns: [],
        role: row.role_name,
        supportsNetChanges: Boolean(row.supports_net_changes),
      };
      facts.captureInstances.push(ci);
    }
    if (row.column_name) ci.columns.push(row.column_name);
  }
  // bigint columns: the driver returns them as text.
  const jobs = await client.query<{
    job_type: string;
    pollinginterval: number | string;
    maxtrans: number | string;
    retention: number | string;
  }>("SELECT job_type, pollinginterval, maxtrans, retention FROM msdb.dbo.cdc_jobs WHERE database_id = DB_ID()");
  for (const job of jobs) {
    if (job.job_type === "capture")
      facts.jobs.capture = { pollingInterval: Number(job.pollinginterval), maxTrans: Number(job.maxtrans) };
    if (job.job_type === "cleanup") facts.jobs.cleanup = { retention: Number(job.retention) };
  }
  return facts;
}

/**
 * The database's CDC as the state records it, with what `connectorLsn` (the connector's position, read
 * once per operation) allows to retire, and the warnings of the last create or update.
 */
export async function readSqlServerCdcFacts(
  client: SqlClient,
  declared: Pick<CdcDeclaration, "tables" | "connectorLogin">,
  connectorLsn: string | null,
  warnings: string[],
): Promise<SqlServerCdcFacts> {
  const facts = await readSqlServerCdc(client, declared.connectorLogin);
  const retirable = retirableInstances(facts, declared.tables, connectorLsn);
  return {
    ...facts,
    connectorLsn,
    retirableInstances: retirable,
    positionLost: positionLost(facts, connectorLsn),
    warnings,
  };
}

/**
 * Whether the connector's committed position is before every capture instance's start, Debezium's own check
 * when its task starts (SqlServerConnection.validateLogPosition: min(start_lsn) of cdc.change_tables against
 * the offset's commit_lsn): the changes in between are gone.
 */
export function positionLost(
  facts: Pick<SqlServerDatabaseFacts, "captureInstances">,
  connectorLsn: string | null,
): boolean {
  const starts = facts.captureInstances.map((ci) => ci.startLsn).filter((lsn): lsn is string => lsn !== null);
  if (connectorLsn === null || /^0*$/.test(connectorLsn) || starts.length === 0) return false;
  return starts.every((start) => start > connectorLsn);
}

/** The database's current maximum LSN (sys.fn_cdc_get_max_lsn) as 20 hex digits; null before the capture job has run. */
export async function maxCdcLsn(client: SqlClient): Promise<string | null> {
  const [row] = await client.query<{ lsn: string | null }>(
    "SELECT CONVERT(char(20), sys.fn_cdc_get_max_lsn(), 2) AS lsn",
  );
  return row?.lsn ? normalLsn(row.lsn) : null;
}

/** The columns of a table, in order (what "all columns" means for a comparison). */
async function tableColumns(client: SqlClient, t: CdcTable): Promise<string[]> {
  const rows = await client.query<{ name: string }>(
    "SELECT c.name FROM sys.columns c WHERE c.object_id = OBJECT_ID(QUOTENAME(@schema) + N'.' + QUOTENAME(@table)) ORDER BY c.column_id",
    { schema: t.schema, table: t.name },
  );
  return rows.map((r) => r.name);
}

/** One line per difference between the facts and the declaration (empty: in sync). */
export function sqlServerCdcDrift(
  facts: SqlServerDatabaseFacts &
    Partial<Pick<SqlServerCdcFacts, "retirableInstances" | "positionLost" | "connectorLsn">>,
  declared: Pick<
    CdcDeclaration,
    "tables" | "signalTable" | "pollingIntervalSeconds" | "maxTransactions" | "retentionMinutes" | "connectorLogin"
  >,
): string[] {
  const drift: string[] = [];
  if (!facts.cdcEnabled) return ["CDC is not enabled on the database"];
  for (const t of capturedTables(declared)) {
    const instances = facts.captureInstances.filter(ofTable(t));
    if (instances.length === 0) drift.push(`${t.schema}.${t.name}: not captured`);
    const newest = instances[instances.length - 1];
    if (newest && t.capturedColumns && !sameColumns(newest.columns, t.capturedColumns)) {
      drift.push(
        `${t.schema}.${t.name}: captures [${newest.columns.join(", ")}], declared [${t.capturedColumns.join(", ")}]`,
      );
    }
    if (newest) drift.push(...captureOptionChanges(t, newest).map((change) => `${t.schema}.${t.name}: ${change}`));
  }
  const capture = facts.jobs.capture;
  if (!capture) drift.push("the capture job is missing");
  else if (
    capture.pollingInterval !== declared.pollingIntervalSeconds ||
    capture.maxTrans !== declared.maxTransactions
  ) {
    drift.push(`capture job: polling ${capture.pollingInterval} s / ${capture.maxTrans} transactions`);
  }
  if (!facts.jobs.cleanup) drift.push("the cleanup job is missing");
  else if (facts.jobs.cleanup.retention !== declared.retentionMinutes) {
    drift.push(`cleanup job: retention ${facts.jobs.cleanup.retention} min`);
  }
  if (declared.connectorLogin && !facts.connectorLoginExists) {
    drift.push(`login '${declared.connectorLogin}' is missing`);
  }
  for (const instance of facts.retirableInstances ?? []) {
    drift.push(`capture instance ${instance} is no longer read by the connector (pulumi up retires it)`);
  }
  if (facts.positionLost) {
    drift.push(
      `the connector's position ${facts.connectorLsn ?? ""} is before the oldest change data kept: the cleanup job ` +
        "removed changes it had not read (pulumi up moves it on and backfills the tables)",
    );
  }
  return drift;
}

async function enableTable(client: SqlClient, t: CdcTable, captureInstance: string): Promise<void> {
  await client.query(
    `EXEC sys.sp_cdc_enable_table @source_schema = @schema, @source_name = @table, @role_name = @role,
       @capture_instance = @instance, @supports_net_changes = @net, @captured_column_list = @columns,
       @filegroup_name = @filegroup`,
    {
      schema: t.schema,
      table: t.name,
      role: t.role ?? null,
      instance: captureInstance,
      net: t.supportsNetChanges ?? false,
      // A list of names in one parameter: each is bracketed, as sp_cdc_enable_table reads them.
      columns: t.capturedColumns ? t.capturedColumns.map(bracketed).join(", ") : null,
      filegroup: t.filegroup ?? null,
    },
  );
}

async function disableTable(client: SqlClient, t: CdcTable, captureInstance: string): Promise<void> {
  await client.query(
    "EXEC sys.sp_cdc_disable_table @source_schema = @schema, @source_name = @table, @capture_instance = @instance",
    { schema: t.schema, table: t.name, instance: captureInstance },
  );
}

/**
 * Brings the database to the declaration, idempotently. Checks SQL Server Agent first (before changing
 * anything); returns warnings. A change of captured columns follows Debezium's online schema update
 * (lib/capture-instances.ts): a second capture instance is created, the first one kept until the
 * connector's committed position (`position`, from its offsets) has passed the second one's start, and
 * retired by the first `up` after that.
 */
export async function applySqlServerCdc(
  client: SqlClient,
  declared: CdcDeclaration,
  position: string | null = null,
): Promise<string[]> {
  const warnings: string[] = [];
  let facts = await readSqlServerCdc(client, declared.connectorLogin);
  if (!facts.agentRunning) {
    const message =
      "SQL Server Agent is not running: the capture job will not run and the connector reports " +
      "'No maximum LSN recorded'. Start the Agent (in a container: MSSQL_AGENT_ENABLED=true)";
    if (declared.agentNotRunning === "fail") throw new Error(message);
    warnings.push(message);
  }
  if (!facts.cdcEnabled) {
    await client.query("EXEC sys.sp_cdc_enable_db");
    facts = await readSqlServerCdc(client, declared.connectorLogin);
  }
  if (declared.signalTable) await createSignalTable(client, declared.signalTable);
  for (const t of capturedTables(declared)) {
    let instances = facts.captureInstances.filter(ofTable(t));
    if (instances.length === 0) {
      await enableTable(client, t, defaultInstance(t));
      continue;
    }
    if (mayRetireOldest(instances, position)) {
      await disableTable(client, t, instances[0].captureInstance);
      instances = instances.slice(1);
    }
    const wanted = t.capturedColumns ?? (await tableColumns(client, t));
    const step = nextCaptureInstance(t, instances, wanted, position, declared.connector !== undefined);
    if (step.create) await enableTable(client, t, step.create);
    if (step.warning) warnings.push(step.warning);
  }
  facts = await readSqlServerCdc(client, declared.connectorLogin);
  if (!facts.jobs.capture) await client.query("EXEC sys.sp_cdc_add_job @job_type = N'capture'");
  if (!facts.jobs.cleanup) await client.query("EXEC sys.sp_cdc_add_job @job_type = N'cleanup'");
  await client.query(
    "EXEC sys.sp_cdc_change_job @job_type = N'capture', @pollinginterval = @polling, @maxtrans = @maxtrans",
    { polling: declared.pollingIntervalSeconds, maxtrans: declared.maxTransactions },
  );
  await client.query("EXEC sys.sp_cdc_change_job @job_type = N'cleanup', @retention = @retention", {
    retention: declared.retentionMinutes,
  });
  if (declared.connectorLogin) await grantConnectorLogin(client, declared);
  return warnings;
}

/**
 * Brings the database to the declaration (applySqlServerCdc) and reads it back, with what the connector's
 * position `connectorLsn` allows to retire: the facts SqlServerCdc records after a create or an update.
 */
export async function convergeSqlServerCdc(
  client: SqlClient,
  declared: CdcDeclaration,
  connectorLsn: string | null,
): Promise<SqlServerCdcFacts> {
  const warnings = await applySqlServerCdc(client, declared, connectorLsn);
  return readSqlServerCdcFacts(client, declared, connectorLsn, warnings);
}

/**
 * Creates Debezium's signalling table when it is missing. Debezium reads its columns by position (id, type,
 * data); a repair's data holds its keys, so it is unbounded. Names are quoted by QUOTENAME on the server.
 */
async function createSignalTable(client: SqlClient, t: { schema: string; name: string }): Promise<void> {
  await client.query(
    `IF OBJECT_ID(QUOTENAME(@schema) + N'.' + QUOTENAME(@table), N'U') IS NULL
     BEGIN
       DECLARE @sql nvarchar(max) = N'CREATE TABLE ' + QUOTENAME(@schema) + N'.' + QUOTENAME(@table) +
         N' (id varchar(64) NOT NULL PRIMARY KEY, type varchar(32) NOT NULL, data nvarchar(max) NULL)';
       EXEC (@sql);
     END`,
    { schema: t.schema, table: t.name },
  );
}

/**
 * A login and database user for the connector with SELECT on the captured tables and membership of
 * their gating roles; never sysadmin or db_owner. Names and the password are quoted by QUOTENAME or
 * escaped on the server, inside dynamic SQL built from parameters. An existing login gets the declared
 * password, so a changed one reaches the server.
 */
async function grantConnectorLogin(client: SqlClient, declared: CdcDeclaration): Promise<void> {
  await client.query(
    `DECLARE @sql nvarchar(max);
     IF NOT EXISTS (SELECT 1 FROM sys.server_principals WHERE name = @login)
       SET @sql = N'CREATE LOGIN ' + QUOTENAME(@login) + N' WITH PASSWORD = N''' + REPLACE(@password, N'''', N'''''') + N'''';
     ELSE
       SET @sql = N'ALTER LOGIN ' + QUOTENAME(@login) + N' WITH PASSWORD = N''' + REPLACE(@password, N'''', N'''''') + N'''';
     EXEC (@sql);
     IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = @login)
     BEGIN
       SET @sql = N'CREATE USER ' + QUOTENAME(@login) + N' FOR LOGIN ' + QUOTENAME(@login);
       EXEC (@sql);
     END`,
    { login: declared.connectorLogin, password: declared.connectorPassword },
  );
  for (const t of capturedTables(declared)) {
    await client.query(
      `DECLARE @sql nvarchar(max) = N'GRANT SELECT ON ' + QUOTENAME(@schema) + N'.' + QUOTENAME(@table) + N' TO ' + QUOTENAME(@login);
       EXEC (@sql);`,
      { schema: t.schema, table: t.name, login: declared.connectorLogin },
    );
    if (t.role) {
      await client.query(
        `DECLARE @sql nvarchar(max) = N'ALTER ROLE ' + QUOTENAME(@role) + N' ADD MEMBER ' + QUOTENAME(@login);
         EXEC (@sql);`,
        { role: t.role, login: declared.connectorLogin },
      );
    }
  }
  // The connector writes its incremental snapshots' watermarks to the signalling table.
  if (declared.signalTable) {
    await client.query(
      `DECLARE @sql nvarchar(max) = N'GRANT INSERT ON ' + QUOTENAME(@schema) + N'.' + QUOTENAME(@table) + N' TO ' + QUOTENAME(@login);
       EXEC (@sql);`,
      { schema: declared.signalTable.schema, table: declared.signalTable.name, login: declared.connectorLogin },
    );
  }
}

/**
 * Disables CDC on the tables and the database, drops the signalling table (signals are no one else's data)
 * and the connector login. Gone already is fine.
 */
export async function disableSqlServerCdc(
  client: SqlClient,
  declared: Pick<CdcDeclaration, "tables" | "signalTable" | "connectorLogin">,
): Promise<void> {
  const facts = await readSqlServerCdc(client, declared.connectorLogin);
  const tables = capturedTables(declared);
  if (facts.cdcEnabled) {
    for (const t of tables) {
      for (const ci of facts.captureInstances.filter(ofTable(t))) await disableTable(client, t, ci.captureInstance);
    }
    // The database keeps CDC while other tables use it.
    const others = facts.captureInstances.filter((ci) => !tables.some((t) => ofTable(t)(ci)));
    if (others.length === 0) await client.query("EXEC sys.sp_cdc_disable_db");
  }
  if (declared.signalTable) {
    await client.query(
      `IF OBJECT_ID(QUOTENAME(@schema) + N'.' + QUOTENAME(@table), N'U') IS NOT NULL
       BEGIN
         DECLARE @sql nvarchar(max) = N'DROP TABLE ' + QUOTENAME(@schema) + N'.' + QUOTENAME(@table);
         EXEC (@sql);
       END`,
      { schema: declared.signalTable.schema, table: declared.signalTable.name },
    );
  }
  if (declared.connectorLogin && facts.connectorLoginExists) {
    await client.query(
      `DECLARE @sql nvarchar(max);
       IF EXISTS (SELECT 1 FROM sys.database_principals WHERE name = @login)
       BEGIN SET @sql = N'DROP USER ' + QUOTENAME(@login); EXEC (@sql); END;
       SET @sql = N'DROP LOGIN ' + QUOTENAME(@login); EXEC (@sql);`,
      { login: declared.connectorLogin },
    );
  }
}

/** Creates the database when it does not exist; the name is quoted by QUOTENAME on the server. */
export async function createDatabaseIfMissing(client: SqlClient, database: string): Promise<void> {
  await client.query(
    `IF DB_ID(@database) IS NULL
     BEGIN
       DECLARE @sql nvarchar(max) = N'CREATE DATABASE ' + QUOTENAME(@database);
       EXEC (@sql);
     END`,
    { database },
  );
}

/**
 * Equal as JSON values, as a declaration is stored in the state: the order of an object's keys, and keys
 * holding undefined, do not count.
 */
export const sameDeclaredValue = (a: unknown, b: unknown): boolean =>
  isDeepStrictEqual(
    a === undefined ? a : JSON.parse(JSON.stringify(a)),
    b === undefined ? b : JSON.parse(JSON.stringify(b)),
  );

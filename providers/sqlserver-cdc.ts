// SqlServerCdc: change data capture on one SQL Server database, declared: CDC enabled on the database and
// on each listed table, the capture and cleanup jobs' settings, SQL Server Agent checked, optionally a
// least-privilege login for the connector. Refresh reads it all back, so CDC disabled by hand or lost in a
// RESTORE without KEEP_CDC is drift that `pulumi up` repairs. Every name travels as a parameter.
import * as pulumi from "@pulumi/pulumi";
import { connectHttp, connectionSecrets, httpStatusOf, type ConnectConnection } from "../lib/connect-rest";
import { getConfig, getOffsets, type ConnectorOffsets } from "../lib/connector-api";
import { withSqlServer, type SqlClient, type SqlServerConnection } from "../lib/sqlserver";

export interface CdcTable {
  schema: string;
  name: string;
  /** Capture instance name. Default: <schema>_<name>; a change of columns adds a "_v2"/"_v1" successor. */
  captureInstance?: string;
  /** Gating role for the change data; null or absent: no gating role. */
  role?: string | null;
  /** Create the net-changes function (needs a primary key or unique index). Default: false. */
  supportsNetChanges?: boolean;
  /** Columns to capture, in any order. Default: all. */
  capturedColumns?: string[];
  /** Filegroup for the change table. Default: the database's default filegroup. */
  filegroup?: string;
}

export interface SqlServerCdcInputs extends SqlServerConnection {
  /** Create the database when it is missing (a fresh server, such as the containers'). Default: false. */
  createDatabase: boolean;
  tables: CdcTable[];
  /** Capture job: seconds between scans of the log. Default: 5. */
  pollingIntervalSeconds: number;
  /** Capture job: transactions per scan. Default: 500. */
  maxTransactions: number;
  /** Cleanup job: minutes change data is kept (read by the connector or not). Default: 4320 (3 days). */
  retentionMinutes: number;
  /** When SQL Server Agent is not running (no capture, "No maximum LSN recorded"): fail or warn. Default: fail. */
  agentNotRunning: "fail" | "warn";
  /** Disable CDC on delete. Default: true. */
  disableOnDelete: boolean;
  /** Login (and database user) to create for the connector: SELECT on the tables, gating roles. Default: none. */
  connectorLogin: string;
  /** Its password (secret). */
  connectorPassword: string;
  /**
   * The Debezium source connector reading this database: an old capture instance is retired only once its
   * committed position has passed the new one's start (Debezium's online schema update). Default: none,
   * and an old capture instance is kept, with a warning, until it is disabled by hand.
   */
  connector?: { cluster: ConnectConnection; name: string };
}

export interface CaptureInstance {
  schema: string;
  table: string;
  captureInstance: string;
  /** cdc.change_tables.start_lsn as 20 hex digits; null until SQL Server has set it. */
  startLsn: string | null;
  columns: string[];
  role: string | null;
  supportsNetChanges: boolean;
}

/** What the database itself says about its CDC. */
export interface SqlServerDatabaseFacts {
  cdcEnabled: boolean;
  agentRunning: boolean;
  captureInstances: CaptureInstance[];
  jobs: { capture?: { pollingInterval: number; maxTrans: number }; cleanup?: { retention: number } };
  connectorLoginExists: boolean;
}

export interface SqlServerCdcFacts extends SqlServerDatabaseFacts {
  /** The connector's committed position (Debezium's commit_lsn), when it has one. */
  connectorLsn: string | null;
  /** Old capture instances the connector no longer needs (it passed their successor's start): `up` retires them. */
  retirableInstances: string[];
  /** Warnings of the last create or update (for example, Agent not running with agentNotRunning=warn). */
  warnings: string[];
}

export type SqlServerCdcState = SqlServerCdcInputs & SqlServerCdcFacts;

/**
 * An LSN as lower-case hex digits without separators, so that Debezium's offsets ("0000002d:00000af8:0003",
 * io.debezium.connector.sqlserver.Lsn) and SQL Server's CONVERT(char(20), lsn, 2) compare as text.
 */
export const normalLsn = (lsn: string): string => lsn.replace(/[^0-9A-Fa-f]/g, "").toLowerCase();

/**
 * The Debezium SQL Server connector's committed position in this database (its offset's commit_lsn, in the
 * partition {server, database}); null before it has committed one.
 */
export function committedLsn(offsets: ConnectorOffsets, database: string): string | null {
  const partition = offsets.offsets.find((o) => o.partition.database === database);
  const lsn = partition?.offset?.commit_lsn;
  return typeof lsn === "string" && /[0-9a-f]/i.test(lsn) && lsn !== "NULL" ? normalLsn(lsn) : null;
}

/**
 * A table's capture instances, oldest first: the older one of two may go once the connector's position has
 * reached the newer one's start (Debezium then reads only the newer one).
 */
function mayRetireOldest(instances: CaptureInstance[], position: string | null): boolean {
  const successor = instances[1];
  return instances.length === 2 && position !== null && successor.startLsn !== null && successor.startLsn <= position;
}

/** The old capture instances of the declared tables that the connector no longer reads. */
export function retirableInstances(
  facts: SqlServerDatabaseFacts,
  tables: CdcTable[],
  position: string | null,
): string[] {
  return tables.flatMap((t) => {
    const instances = facts.captureInstances.filter(sameTable(t));
    return mayRetireOldest(instances, position) ? [instances[0].captureInstance] : [];
  });
}

const sameColumns = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/** SQL Server's own default, schema_table, made a plain name (it becomes part of function names). */
const defaultInstance = (t: CdcTable): string =>
  t.captureInstance ?? `${t.schema}_${t.name}`.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 100);
const sameTable = (t: CdcTable) => (ci: CaptureInstance) => ci.schema === t.schema && ci.table === t.name;

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
  const facts = {
    cdcEnabled: Boolean(db?.is_cdc_enabled),
    agentRunning: agent.some((a) => a.status_desc === "Running"),
    captureInstances: [] as CaptureInstance[],
    jobs: {} as SqlServerCdcFacts["jobs"],
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

/** The columns of a table, in order (what "all columns" means for a comparison). */
async function tableColumns(client: SqlClient, t: CdcTable): Promise<string[]> {
  const rows = await client.query<{ name: string }>(
    "SELECT c.name FROM sys.columns c WHERE c.object_id = OBJECT_ID(QUOTENAME(@schema) + N'.' + QUOTENAME(@table)) ORDER BY c.column_id",
    { schema: t.schema, table: t.name },
  );
  return rows.map((r) => r.name);
}

/** One line per difference between the facts and the inputs (empty: in sync). */
export function sqlServerCdcDrift(
  facts: SqlServerDatabaseFacts & Partial<Pick<SqlServerCdcFacts, "retirableInstances">>,
  inputs: SqlServerCdcInputs,
): string[] {
  const drift: string[] = [];
  if (!facts.cdcEnabled) return ["CDC is not enabled on the database"];
  for (const t of inputs.tables) {
    const instances = facts.captureInstances.filter(sameTable(t));
    if (instances.length === 0) drift.push(`${t.schema}.${t.name}: not captured`);
    const newest = instances[instances.length - 1];
    if (newest && t.capturedColumns && !sameColumns(newest.columns, t.capturedColumns)) {
      drift.push(
        `${t.schema}.${t.name}: captures [${newest.columns.join(", ")}], declared [${t.capturedColumns.join(", ")}]`,
      );
    }
  }
  const capture = facts.jobs.capture;
  if (!capture) drift.push("the capture job is missing");
  else if (capture.pollingInterval !== inputs.pollingIntervalSeconds || capture.maxTrans !== inputs.maxTransactions) {
    drift.push(`capture job: polling ${capture.pollingInterval} s / ${capture.maxTrans} transactions`);
  }
  if (!facts.jobs.cleanup) drift.push("the cleanup job is missing");
  else if (facts.jobs.cleanup.retention !== inputs.retentionMinutes) {
    drift.push(`cleanup job: retention ${facts.jobs.cleanup.retention} min`);
  }
  if (inputs.connectorLogin && !facts.connectorLoginExists) drift.push(`login '${inputs.connectorLogin}' is missing`);
  for (const instance of facts.retirableInstances ?? []) {
    drift.push(`capture instance ${instance} is no longer read by the connector (pulumi up retires it)`);
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
      columns: t.capturedColumns ? t.capturedColumns.map((c) => `[${c.replace(/]/g, "]]")}]`).join(", ") : null,
      filegroup: t.filegroup ?? null,
    },
  );
}

/**
 * Brings the database to the inputs, idempotently. Checks SQL Server Agent first (before changing
 * anything); returns warnings. A change of captured columns follows Debezium's online schema update: a
 * second capture instance is created, the first one kept until the connector's committed position
 * (`position`, from its offsets) has passed the second one's start, and retired by the first `up` after that.
 */
export async function applySqlServerCdc(
  client: SqlClient,
  inputs: SqlServerCdcInputs,
  position: string | null = null,
): Promise<string[]> {
  const warnings: string[] = [];
  let facts = await readSqlServerCdc(client, inputs.connectorLogin);
  if (!facts.agentRunning) {
    const message =
      "SQL Server Agent is not running: the capture job will not run and the connector reports " +
      "'No maximum LSN recorded'. Start the Agent (in a container: MSSQL_AGENT_ENABLED=true)";
    if (inputs.agentNotRunning === "fail") throw new Error(message);
    warnings.push(message);
  }
  if (!facts.cdcEnabled) {
    await client.query("EXEC sys.sp_cdc_enable_db");
    facts = await readSqlServerCdc(client, inputs.connectorLogin);
  }
  const disable = (t: CdcTable, instance: string) =>
    client.query(
      "EXEC sys.sp_cdc_disable_table @source_schema = @schema, @source_name = @table, @capture_instance = @instance",
      { schema: t.schema, table: t.name, instance },
    );
  const where = position === null ? "has no committed position yet" : `is at LSN ${position}`;
  for (const t of inputs.tables) {
    let instances = facts.captureInstances.filter(sameTable(t));
    if (instances.length === 0) {
      await enableTable(client, t, defaultInstance(t));
      continue;
    }
    if (mayRetireOldest(instances, position)) {
      await disable(t, instances[0].captureInstance);
      instances = instances.slice(1);
    }
    const newest = instances[instances.length - 1];
    const kept = instances.length === 2 ? instances[0].captureInstance : undefined;
    const wanted = t.capturedColumns ?? (await tableColumns(client, t));
    if (sameColumns(newest.columns, wanted)) {
      if (kept) {
        warnings.push(
          `${t.schema}.${t.name}: capture instance ${kept} is kept until the connector passes ${newest.captureInstance}'s ` +
            `start (LSN ${newest.startLsn ?? "not set yet"}; the connector ${where}); a later pulumi up retires it`,
        );
      }
      continue;
    }
    if (kept) {
      throw new Error(
        `${t.schema}.${t.name} already has two capture instances (${kept}, ${newest.captureInstance}) and the connector ` +
          `has not passed ${newest.captureInstance}'s start (LSN ${newest.startLsn ?? "not set yet"}; the connector ${where}): ` +
          "change the captured columns again once it has (pulumi up then retires the old instance first)",
      );
    }
    const successor = newest.captureInstance.endsWith("_v2")
      ? `${newest.captureInstance.slice(0, -3)}_v1`
      : `${newest.captureInstance.replace(/_v1$/, "")}_v2`;
    await enableTable(client, t, successor);
    warnings.push(
      inputs.connector
        ? `${t.schema}.${t.name}: capture instance ${successor} created; ${newest.captureInstance} is kept until the ` +
            "connector has switched to it, and a later pulumi up retires it"
        : `${t.schema}.${t.name}: capture instance ${successor} created; ${newest.captureInstance} is kept: no connector ` +
            "is named to tell when Debezium has switched to the new one, so disable it by hand once it has",
    );
  }
  facts = await readSqlServerCdc(client, inputs.connectorLogin);
  if (!facts.jobs.capture) await client.query("EXEC sys.sp_cdc_add_job @job_type = N'capture'");
  if (!facts.jobs.cleanup) await client.query("EXEC sys.sp_cdc_add_job @job_type = N'cleanup'");
  await client.query(
    "EXEC sys.sp_cdc_change_job @job_type = N'capture', @pollinginterval = @polling, @maxtrans = @maxtrans",
    { polling: inputs.pollingIntervalSeconds, maxtrans: inputs.maxTransactions },
  );
  await client.query("EXEC sys.sp_cdc_change_job @job_type = N'cleanup', @retention = @retention", {
    retention: inputs.retentionMinutes,
  });
  if (inputs.connectorLogin) await grantConnectorLogin(client, inputs);
  return warnings;
}

/**
 * A login and database user for the connector with SELECT on the captured tables and membership of
 * their gating roles; never sysadmin or db_owner. Names and the password are quoted by QUOTENAME or
 * escaped on the server, inside dynamic SQL built from parameters.
 */
async function grantConnectorLogin(client: SqlClient, inputs: SqlServerCdcInputs): Promise<void> {
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
    { login: inputs.connectorLogin, password: inputs.connectorPassword },
  );
  for (const t of inputs.tables) {
    await client.query(
      `DECLARE @sql nvarchar(max) = N'GRANT SELECT ON ' + QUOTENAME(@schema) + N'.' + QUOTENAME(@table) + N' TO ' + QUOTENAME(@login);
       EXEC (@sql);`,
      { schema: t.schema, table: t.name, login: inputs.connectorLogin },
    );
    if (t.role) {
      await client.query(
        `DECLARE @sql nvarchar(max) = N'ALTER ROLE ' + QUOTENAME(@role) + N' ADD MEMBER ' + QUOTENAME(@login);
         EXEC (@sql);`,
        { role: t.role, login: inputs.connectorLogin },
      );
    }
  }
}

/** Disables CDC on the tables and the database, and drops the connector login. Gone already is fine. */
export async function disableSqlServerCdc(client: SqlClient, inputs: SqlServerCdcInputs): Promise<void> {
  const facts = await readSqlServerCdc(client, inputs.connectorLogin);
  if (facts.cdcEnabled) {
    for (const t of inputs.tables) {
      for (const ci of facts.captureInstances.filter(sameTable(t))) {
        await client.query(
          "EXEC sys.sp_cdc_disable_table @source_schema = @schema, @source_name = @table, @capture_instance = @instance",
          { schema: t.schema, table: t.name, instance: ci.captureInstance },
        );
      }
    }
    // The database keeps CDC while other tables use it.
    const others = facts.captureInstances.filter((ci) => !inputs.tables.some((t) => sameTable(t)(ci)));
    if (others.length === 0) await client.query("EXEC sys.sp_cdc_disable_db");
  }
  if (inputs.connectorLogin && facts.connectorLoginExists) {
    await client.query(
      `DECLARE @sql nvarchar(max);
       IF EXISTS (SELECT 1 FROM sys.database_principals WHERE name = @login)
       BEGIN SET @sql = N'DROP USER ' + QUOTENAME(@login); EXEC (@sql); END;
       SET @sql = N'DROP LOGIN ' + QUOTENAME(@login); EXEC (@sql);`,
      { login: inputs.connectorLogin },
    );
  }
}

export function checkSqlServerCdcInputs(news: Partial<SqlServerCdcInputs>): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const sysname = (v: unknown) => typeof v === "string" && v.length > 0 && v.length <= 128;
  for (const key of ["host", "database", "user"] as const) {
    if (!sysname(news[key])) failures.push({ property: key, reason: "must be a name of 1 to 128 characters" });
  }
  if (!Number.isInteger(news.port) || (news.port as number) < 1 || (news.port as number) > 65535) {
    failures.push({ property: "port", reason: `must be a port number from 1 to 65535, got '${news.port}'` });
  }
  if (!Array.isArray(news.tables) || news.tables.length === 0) {
    failures.push({ property: "tables", reason: "must list at least one table" });
  }
  for (const [i, t] of (news.tables ?? []).entries()) {
    if (!sysname(t.schema) || !sysname(t.name)) {
      failures.push({ property: "tables", reason: `tables[${i}] needs a schema and a name of 1 to 128 characters` });
    }
    if (t.captureInstance !== undefined && !/^[A-Za-z0-9_]{1,100}$/.test(t.captureInstance)) {
      failures.push({
        property: "tables",
        reason: `tables[${i}].captureInstance may hold only letters, digits and _ (at most 100)`,
      });
    }
  }
  const positive = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!positive(news.pollingIntervalSeconds))
    failures.push({ property: "pollingIntervalSeconds", reason: "must be a whole number of seconds above 0" });
  if (!positive(news.maxTransactions))
    failures.push({ property: "maxTransactions", reason: "must be a whole number above 0" });
  if (
    !Number.isInteger(news.retentionMinutes) ||
    (news.retentionMinutes as number) < 1 ||
    (news.retentionMinutes as number) > 52_494_800
  ) {
    failures.push({ property: "retentionMinutes", reason: "must be from 1 to 52494800 minutes (SQL Server's limit)" });
  }
  if (!["fail", "warn"].includes(news.agentNotRunning as string)) {
    failures.push({
      property: "agentNotRunning",
      reason: `must be "fail" or "warn", got '${String(news.agentNotRunning)}'`,
    });
  }
  if (news.connectorLogin && !news.connectorPassword) {
    failures.push({ property: "connectorPassword", reason: "is required with connectorLogin" });
  }
  return failures;
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

/** The connector's committed LSN in this database; null without a connector, or before it has one. */
async function connectorPosition(inputs: SqlServerCdcInputs): Promise<string | null> {
  if (!inputs.connector) return null;
  const { cluster, name } = inputs.connector;
  const http = connectHttp(cluster);
  const secrets = connectionSecrets(cluster);
  if (!(await getConfig(http, name, secrets))) return null;
  // A worker before Connect 3.5 has no offsets endpoint: the position is unknown, and nothing is retired.
  const offsets = await getOffsets(http, name, secrets).catch((err: unknown) => {
    if (httpStatusOf(err) === 404 || httpStatusOf(err) === 405) return undefined;
    throw err;
  });
  return offsets ? committedLsn(offsets, inputs.database) : null;
}

async function observe(inputs: SqlServerCdcInputs, warnings: string[]): Promise<SqlServerCdcState> {
  const facts = await withSqlServer(inputs, (client) => readSqlServerCdc(client, inputs.connectorLogin));
  const connectorLsn = await connectorPosition(inputs);
  const retirable = retirableInstances(facts, inputs.tables, connectorLsn);
  return { ...inputs, ...facts, connectorLsn, retirableInstances: retirable, warnings };
}

async function converge(inputs: SqlServerCdcInputs): Promise<SqlServerCdcState> {
  if (inputs.createDatabase) {
    await withSqlServer({ ...inputs, database: "master" }, (client) =>
      createDatabaseIfMissing(client, inputs.database),
    );
  }
  const position = await connectorPosition(inputs);
  const warnings = await withSqlServer(inputs, (client) => applySqlServerCdc(client, inputs, position));
  return observe(inputs, warnings);
}

export const sqlServerCdcProvider: pulumi.dynamic.ResourceProvider<SqlServerCdcInputs, SqlServerCdcState> = {
  async check(_olds, news) {
    const inputs = {
      ...news,
      encrypt: news.encrypt ?? true,
      trustServerCertificate: news.trustServerCertificate ?? false,
      createDatabase: news.createDatabase ?? false,
      pollingIntervalSeconds: news.pollingIntervalSeconds ?? 5,
      maxTransactions: news.maxTransactions ?? 500,
      retentionMinutes: news.retentionMinutes ?? 4320,
      agentNotRunning: news.agentNotRunning ?? "fail",
      disableOnDelete: news.disableOnDelete ?? true,
      connectorLogin: news.connectorLogin ?? "",
      connectorPassword: news.connectorPassword ?? "",
    };
    return { inputs, failures: checkSqlServerCdcInputs(inputs) };
  },
  async diff(_id, olds, news) {
    const replaces = (["host", "port", "database"] as const).filter((key) => olds[key] !== news[key]);
    const changes =
      replaces.length > 0 ||
      sqlServerCdcDrift(olds, news).length > 0 ||
      JSON.stringify(olds.tables) !== JSON.stringify(news.tables) ||
      JSON.stringify(olds.connector) !== JSON.stringify(news.connector) ||
      (
        [
          "user",
          "password",
          "encrypt",
          "trustServerCertificate",
          "createDatabase",
          "agentNotRunning",
          "disableOnDelete",
          "connectorLogin",
          "connectorPassword",
        ] as const
      ).some((key) => olds[key] !== news[key]);
    return { changes, replaces: [...replaces] };
  },
  async create(inputs) {
    return { id: `${inputs.host}:${inputs.port}/${inputs.database}`, outs: await converge(inputs) };
  },
  async read(id, props) {
    if (!props) throw new Error(`SqlServerCdc ${id}: cannot read without its recorded connection`);
    return { id, props: await observe(props, props.warnings ?? []) };
  },
  async update(_id, olds, news) {
    // Tables no longer declared stop being captured.
    const dropped = olds.tables.filter((o) => !news.tables.some((n) => n.schema === o.schema && n.name === o.name));
    if (dropped.length > 0) {
      await withSqlServer(news, (client) =>
        disableSqlServerCdc(client, { ...olds, tables: dropped, connectorLogin: "" }),
      );
    }
    return { outs: await converge(news) };
  },
  async delete(_id, props) {
    if (!props.disableOnDelete) return;
    await withSqlServer(props, (client) => disableSqlServerCdc(client, props));
  },
};

export interface SqlServerCdcArgs {
  /** Host of the SQL Server. */
  readonly host: pulumi.Input<string>;
  /** Its port. Default: 1433. */
  readonly port?: pulumi.Input<number>;
  /** The database to capture. */
  readonly database: pulumi.Input<string>;
  /** A login that may enable CDC (sysadmin for the database step, db_owner for tables). */
  readonly user: pulumi.Input<string>;
  /** Its password (secret). */
  readonly password: pulumi.Input<string>;
  /** Encrypt the connection. Default: true. */
  readonly encrypt?: pulumi.Input<boolean>;
  /** Accept a self-signed server certificate. Default: false. */
  readonly trustServerCertificate?: pulumi.Input<boolean>;
  /** Create the database when it is missing. Default: false. */
  readonly createDatabase?: pulumi.Input<boolean>;
  /** Tables to capture. */
  readonly tables: pulumi.Input<CdcTable[]>;
  /** Capture job polling interval in seconds. Default: 5. */
  readonly pollingIntervalSeconds?: pulumi.Input<number>;
  /** Capture job transactions per scan. Default: 500. */
  readonly maxTransactions?: pulumi.Input<number>;
  /** Cleanup job retention in minutes. Default: 4320. */
  readonly retentionMinutes?: pulumi.Input<number>;
  /** "fail" or "warn" when SQL Server Agent is not running. Default: "fail". */
  readonly agentNotRunning?: pulumi.Input<"fail" | "warn">;
  /** Disable CDC on delete. Default: true. */
  readonly disableOnDelete?: pulumi.Input<boolean>;
  /** Login to create for the connector. Default: none. */
  readonly connectorLogin?: pulumi.Input<string>;
  /** Its password (secret). */
  readonly connectorPassword?: pulumi.Input<string>;
  /**
   * The source connector reading the database (its cluster and name): an old capture instance is retired
   * once the connector has passed its successor's start. Default: none (old instances are kept).
   */
  readonly connector?: pulumi.Input<{ cluster: pulumi.Input<ConnectConnection>; name: pulumi.Input<string> }>;
}

export class SqlServerCdc extends pulumi.dynamic.Resource {
  declare readonly cdcEnabled: pulumi.Output<boolean>;
  declare readonly agentRunning: pulumi.Output<boolean>;
  declare readonly captureInstances: pulumi.Output<CaptureInstance[]>;
  /** Old capture instances the connector no longer reads (the next `up` retires them). */
  declare readonly retirableInstances: pulumi.Output<string[]>;
  declare readonly warnings: pulumi.Output<string[]>;

  constructor(name: string, args: SqlServerCdcArgs, opts?: pulumi.CustomResourceOptions) {
    const outputs = {
      cdcEnabled: undefined,
      agentRunning: undefined,
      captureInstances: undefined,
      jobs: undefined,
      connectorLoginExists: undefined,
      connectorLsn: undefined,
      retirableInstances: undefined,
      warnings: undefined,
    };
    super(
      sqlServerCdcProvider,
      name,
      {
        ...outputs,
        port: 1433,
        ...args,
        password: pulumi.secret(args.password),
        connectorPassword: pulumi.secret(args.connectorPassword ?? ""),
        // The cluster may carry credentials.
        connector: args.connector === undefined ? undefined : pulumi.secret(args.connector),
      },
      { ...opts, additionalSecretOutputs: ["password", "connectorPassword"] },
      "cdc-pipeline",
      "SqlServerCdc",
    );
  }
}

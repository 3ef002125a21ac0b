// The whole SQL Server path for real, for machines that have a SQL Server (GitHub Actions runs it:
// .github/workflows/sqlserver-live.yml): SqlServerCdc on a fresh database, the target table, the Debezium
// SQL Server source and the JDBC sink on the harness's real Kafka Connect worker, into the harness's target
// PostgreSQL, with the configs and names the CdcPipeline component builds; then `resync` and `repair` as the
// commands run them (ops/resync, ops/repair) and the heal after the cleanup job removed changes the
// connector had not read (SqlServerCdc, KafkaConnector and SourceBackfill as `up` calls them). Set
//   MSSQL_URL='mssql://sa:<password>@127.0.0.1:1433/master?trustServerCertificate=true'
// (SQL Server 2019+ with SQL Server Agent running; the database in the URL is not used: the test creates its
// own from master, and drops it at the end) and, for the Agent test, a second server whose Agent is not
// running (a container without MSSQL_AGENT_ENABLED):
//   MSSQL_NO_AGENT_URL='mssql://sa:<password>@127.0.0.1:1434/master?trustServerCertificate=true'
// The Connect worker reaches the server at the URL's host and port. With MSSQL_RECORD=1 it also rewrites
// recordings of what it reads (test/recordings/sqlserver/live-pipeline-*.json). Skipped without MSSQL_URL.
import axios from "axios";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseStackSettings } from "../../config";
import { ADOPTION_KEYS, jdbcSinkConfig, sqlServerResumePoint, sqlServerSourceConfig } from "../../lib/debezium-configs";
import { pipelineNames } from "../../lib/pipeline-names";
import { withSqlServer, type SqlParam, type SqlServerConnection } from "../../lib/sqlserver";
import {
  kafkaConnectorProvider as connectors,
  type KafkaConnectorInputs,
  type KafkaConnectorState,
} from "../../providers/kafka-connector";
import {
  postgresSchemaProvider as schemas,
  type PostgresSchemaInputs,
  type PostgresSchemaState,
} from "../../providers/postgres-schema";
import {
  applySqlServerCdc,
  createDatabaseIfMissing,
  readSqlServerCdc,
  sqlServerCdcDrift,
} from "../../lib/sqlserver-cdc-sql";
import {
  sqlServerCdcProvider as cdc,
  type SqlServerCdcInputs,
  type SqlServerCdcState,
} from "../../providers/sqlserver-cdc";
import {
  sourceBackfillProvider as backfills,
  type SourceBackfillInputs,
  type SourceBackfillState,
} from "../../providers/source-backfill";
import { repairSite } from "../../ops/repair";
import { resyncTable } from "../../ops/resync";
import type { StackSite } from "../../ops/stacks";
import { cluster, eventually, query } from "../connectors";
import { RecordingClient } from "../fakes/sql-recording";
import { harness, mssqlConnection } from "../harness";

const url = process.env.MSSQL_URL;
const noAgentUrl = process.env.MSSQL_NO_AGENT_URL;
const RECORDINGS = path.join(__dirname, "../recordings/sqlserver");
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

/** Rows as both sides hold them (email once the column exists). */
interface Customer {
  id: number;
  name: string;
  email?: string | null;
}

/** A provider's check, as the engine calls it before create and update; failures fail the test. */
async function checked<I>(
  provider: { check?: (olds: I, news: I) => Promise<{ inputs?: I; failures?: unknown[] }> },
  news: I,
  olds: Partial<I> = {},
): Promise<I> {
  const result = await provider.check!(olds as I, news);
  expect(result.failures ?? []).toEqual([]);
  return result.inputs!;
}

const sql = <T = Record<string, unknown>>(
  conn: SqlServerConnection,
  text: string,
  params: Record<string, SqlParam> = {},
) => withSqlServer(conn, (client) => client.query<T>(text, params));

/** Drops a database if it is there, ending the sessions in it first. */
const dropDatabase = (master: SqlServerConnection, database: string) =>
  sql(
    master,
    `DECLARE @sql nvarchar(max) = N'';
     IF DB_ID(@database) IS NOT NULL
       SET @sql = N'ALTER DATABASE ' + QUOTENAME(@database) + N' SET SINGLE_USER WITH ROLLBACK IMMEDIATE; ' +
                  N'DROP DATABASE ' + QUOTENAME(@database) + N';';
     EXEC (@sql);`,
    { database },
  );

/** Writes what `work` reads through a RecordingClient to test/recordings/sqlserver/<name>.json (MSSQL_RECORD=1). */
async function recordIfAsked(
  conn: SqlServerConnection,
  name: string,
  work: (client: RecordingClient) => Promise<unknown>,
): Promise<void> {
  if (process.env.MSSQL_RECORD !== "1") return;
  await withSqlServer(conn, async (real) => {
    const recorder = new RecordingClient(real);
    await work(recorder).catch(() => undefined);
    recorder.save(path.join(RECORDINGS, `${name}.json`), [conn.password]);
  });
}

describe.skipIf(!url)("the SQL Server pipeline against a live SQL Server (skipped: set MSSQL_URL to run it)", () => {
  const server = url ? mssqlConnection(url) : ({} as SqlServerConnection);
  const master = { ...server, database: "master" };
  const database = `cdc_pipeline_${run}`;
  const restored = `${database}_restored`;
  const source = { ...server, database };
  const table = `customers_${run}`;
  const sourceTable = `dbo.${table}`;
  const prefix = `it_mssql_${run}`;
  // What CdcPipeline derives from its topic prefix and source.
  const names = pipelineNames({ topicPrefix: prefix }, { engine: "sqlserver", database });
  const topic = names.changeTopic(sourceTable);
  const signalTable = { schema: "dbo", name: names.signalTable };
  const oldInstance = `dbo_${table}`;
  const newInstance = `dbo_${table}_v2`;

  // SqlServerCdc as CdcPipeline declares it: the declared columns captured, the source connector named.
  const cdcInputs = (columns: string[]): SqlServerCdcInputs => ({
    ...source,
    createDatabase: true,
    tables: [{ schema: "dbo", name: table, capturedColumns: columns }],
    pollingIntervalSeconds: 1,
    maxTransactions: 500,
    retentionMinutes: 4320,
    agentNotRunning: "fail",
    disableOnDelete: true,
    connectorLogin: "",
    connectorPassword: "",
    connector: { cluster, name: names.sourceConnector },
    signalTable,
  });
  const schemaInputs = (withEmail: boolean, rebuildToken?: string): PostgresSchemaInputs => ({
    ...harness.target,
    password: harness.pgPassword,
    schema: "public",
    tables: [
      {
        name: table,
        columns: [
          { name: "id", type: "integer", nullable: false },
          { name: "name", type: "text", nullable: false },
          ...(withEmail ? [{ name: "email", type: "text" }] : []),
        ],
        primaryKey: ["id"],
      },
    ],
    allowDestructive: false,
    dropTablesOnDelete: true,
    ...(rebuildToken ? { rebuildToken } : {}),
  });
  const connectorDefaults = {
    cluster,
    state: "running",
    readyTimeoutSeconds: 300,
    restartFailedTasks: true,
    ignoreKeys: [],
    validate: true,
  } satisfies Partial<KafkaConnectorInputs>;
  const sourceInputs = (overrides: Partial<KafkaConnectorInputs> = {}): KafkaConnectorInputs => ({
    ...connectorDefaults,
    name: names.sourceConnector,
    config: sqlServerSourceConfig({
      host: server.host,
      port: server.port,
      database,
      user: server.user,
      topicPrefix: prefix,
      tables: [sourceTable],
      kafkaBootstrap: harness.env.CDC_KAFKA_BOOTSTRAP,
      schemaHistoryTopic: names.schemaHistoryTopic,
      signalTable,
      notificationTopic: names.notificationTopic,
      encrypt: server.encrypt,
      trustServerCertificate: server.trustServerCertificate,
    }),
    sensitiveConfig: { "database.password": server.password },
    // As the component: a connector created again starts over with a snapshot.
    offsetsPolicy: "reset",
    ...overrides,
  });
  const sinkInputs = (): KafkaConnectorInputs => ({
    ...connectorDefaults,
    name: names.sinkConnector,
    config: jdbcSinkConfig({
      ...harness.target,
      schema: "public",
      topics: [topic],
      deadLetterTopic: names.deadLetterTopic,
    }),
    sensitiveConfig: { "connection.password": harness.pgPassword },
    offsetsPolicy: "keep",
  });

  const sourceRows = (withEmail: boolean) =>
    sql<Customer>(source, `SELECT id, name${withEmail ? ", email" : ""} FROM dbo.[${table}] ORDER BY id`);
  const targetRows = (withEmail: boolean) =>
    query<Customer>("target", `SELECT id, name${withEmail ? ", email" : ""} FROM public.${table} ORDER BY id`);
  /** Waits until PostgreSQL holds exactly SQL Server's rows (count and content): no row lost, none left over. */
  async function inSync(withEmail: boolean): Promise<Customer[]> {
    const expected = await sourceRows(withEmail);
    const rows = await eventually(
      () => targetRows(withEmail),
      (r) => JSON.stringify(r) === JSON.stringify(expected),
      180_000,
    );
    expect(rows).toEqual(expected);
    return rows;
  }
  const captured = (state: SqlServerCdcState) =>
    state.captureInstances.filter((ci) => ci.table === table).map((ci) => [ci.captureInstance, ci.columns]);

  let cdcId = "";
  let cdcState: SqlServerCdcState | undefined;
  let schemaState: PostgresSchemaState | undefined;
  let sourceState: KafkaConnectorState | undefined;
  let sinkState: KafkaConnectorState | undefined;

  afterAll(async () => {
    const problems: string[] = [];
    const attempt = (what: string, work: () => Promise<unknown>) =>
      work().then(
        () => undefined,
        (err: Error) => void problems.push(`${what}: ${err.message}`),
      );
    // The connectors first (the source's offsets reset: it is gone for good), whatever state the test left.
    for (const state of [sourceState, sinkState]) {
      if (state) await attempt(`delete connector ${state.name}`, () => connectors.delete(state.name, state));
    }
    const rest = axios.create({ baseURL: harness.connectUrl, validateStatus: () => true });
    for (const name of [names.sourceConnector, names.sinkConnector]) await rest.delete(`/connectors/${name}`);
    const [left] = await sql<{ id: number | null }>(master, "SELECT DB_ID(@database) AS id", { database });
    if (cdcState && left?.id !== null) await attempt("disable CDC", () => cdc.delete(cdcId, cdcState!));
    await attempt("drop the databases", async () => {
      for (const db of [database, restored]) await dropDatabase(master, db);
    });
    // The backup file (undocumented procedure: best effort, a leftover file is reported, not a failure).
    await sql(master, "EXEC master.dbo.xp_delete_file 0, @file", { file: `/var/opt/mssql/data/${database}.bak` }).catch(
      (err: Error) => console.warn(`backup file left on the server: ${err.message}`),
    );
    if (schemaState) await attempt("drop the target table", () => schemas.delete("x", schemaState!));
    await query("target", `DROP TABLE IF EXISTS public.${table}`);
    // A SQL Server source holds no replication slot: nothing else pins anything on the source.
    expect(problems).toEqual([]);
  }, 600_000);

  it("CDC on a fresh database, the target table and both connectors: a snapshot, an insert, an update and a delete arrive", async () => {
    await withSqlServer(master, (client) => createDatabaseIfMissing(client, database));
    await sql(source, `CREATE TABLE dbo.[${table}] (id int PRIMARY KEY, name nvarchar(100) NOT NULL)`);
    await sql(source, `INSERT INTO dbo.[${table}] (id, name) VALUES (1, N'Ada')`);

    const inputs = await checked(cdc, cdcInputs(["id", "name"]));
    const created = await cdc.create(inputs);
    cdcId = created.id;
    cdcState = created.outs!;
    expect(cdcState.cdcEnabled).toBe(true);
    expect(cdcState.agentRunning).toBe(true);
    expect(captured(cdcState)).toEqual([[oldInstance, ["id", "name"]]]);
    expect.soft(cdcState.jobs.capture).toEqual({ pollingInterval: 1, maxTrans: 500 });
    expect(cdcState.warnings).toEqual([]);
    // The connector does not exist yet: no position, nothing to retire.
    expect(cdcState.connectorLsn).toBeNull();
    expect(cdcState.retirableInstances).toEqual([]);
    expect.soft((await cdc.diff(cdcId, cdcState, inputs)).changes, "nothing left to change once applied").toBe(false);
    const read = (await cdc.read(cdcId, cdcState)).props!;
    expect(captured(read)).toEqual(captured(cdcState));

    schemaState = (await schemas.create(await checked(schemas, schemaInputs(false)))).outs!;
    sourceState = (await connectors.create(await checked(connectors, sourceInputs()))).outs!;
    sinkState = (await connectors.create(await checked(connectors, sinkInputs()))).outs!;
    expect(sourceState.state).toBe("running");
    expect(sinkState.state).toBe("running");
    expect(JSON.stringify([sourceState, sinkState])).not.toContain(server.password);

    // The snapshot, then streaming from the change tables.
    expect(await inSync(false)).toEqual([{ id: 1, name: "Ada" }]);
    await sql(source, `INSERT INTO dbo.[${table}] (id, name) VALUES (2, N'Grace')`);
    await sql(source, `UPDATE dbo.[${table}] SET name = N'Ada L.' WHERE id = 1`);
    expect(await inSync(false)).toEqual([
      { id: 1, name: "Ada L." },
      { id: 2, name: "Grace" },
    ]);
    await sql(source, `DELETE FROM dbo.[${table}] WHERE id = 2`);
    expect(await inSync(false)).toEqual([{ id: 1, name: "Ada L." }]);
    const topics = await eventually(
      async () => (await connectors.read(sourceState!.name, sourceState)).props?.topics ?? [],
      (t) => t.includes(topic),
    );
    expect(topics).toContain(topic);
  }, 600_000);

  it("a column added: a second capture instance, rows with it arrive, the old instance retired once the connector passed it, no row lost", async () => {
    expect(cdcState && schemaState && sourceState, "the pipeline of the first test").toBeTruthy();
    await sql(source, `ALTER TABLE dbo.[${table}] ADD email nvarchar(200) NULL`);
    // The component declares the column once for both: the target table gets it, and CDC captures it.
    schemaState = (await schemas.update("x", schemaState!, await checked(schemas, schemaInputs(true), schemaState)))
      .outs!;
    const inputs = await checked(cdc, cdcInputs(["id", "name", "email"]), cdcState);
    expect((await cdc.diff(cdcId, cdcState!, inputs)).changes).toBe(true);
    cdcState = (await cdc.update(cdcId, cdcState!, inputs)).outs!;
    // Debezium's online schema update: both instances, the old one kept while the connector still reads it.
    expect(captured(cdcState)).toEqual([
      [oldInstance, ["id", "name"]],
      [newInstance, ["id", "name", "email"]],
    ]);
    expect(cdcState.warnings.join("\n")).toContain(newInstance);
    await recordIfAsked(source, "live-pipeline-two-instances", (client) => readSqlServerCdc(client, ""));

    await sql(source, `INSERT INTO dbo.[${table}] (id, name, email) VALUES (3, N'Edsger', N'ed@example.com')`);
    await sql(source, `INSERT INTO dbo.[${table}] (id, name, email) VALUES (4, N'Barbara', N'bl@example.com')`);
    await sql(source, `UPDATE dbo.[${table}] SET email = N'ada@example.com' WHERE id = 1`);
    expect(await inSync(true)).toEqual([
      { id: 1, name: "Ada L.", email: "ada@example.com" },
      { id: 3, name: "Edsger", email: "ed@example.com" },
      { id: 4, name: "Barbara", email: "bl@example.com" },
    ]);

    // A refresh sees the connector's committed position pass the new instance's start.
    const refreshed = await eventually(
      async () => (await cdc.read(cdcId, cdcState)).props!,
      (props) => props.retirableInstances.includes(oldInstance),
      180_000,
    );
    const successor = refreshed.captureInstances.find((ci) => ci.captureInstance === newInstance)!;
    expect(successor.startLsn).not.toBeNull();
    expect(refreshed.connectorLsn! >= successor.startLsn!).toBe(true);
    expect(refreshed.retirableInstances).toEqual([oldInstance]);
    expect((await cdc.diff(cdcId, refreshed, inputs)).changes).toBe(true);
    cdcState = (await cdc.update(cdcId, refreshed, inputs)).outs!;
    expect(captured(cdcState)).toEqual([[newInstance, ["id", "name", "email"]]]);
    expect(cdcState.retirableInstances).toEqual([]);
    expect.soft((await cdc.diff(cdcId, cdcState, inputs)).changes, "nothing left to change once applied").toBe(false);

    // Streaming goes on from the new instance alone.
    await sql(source, `INSERT INTO dbo.[${table}] (id, name, email) VALUES (5, N'Frances', N'fa@example.com')`);
    expect(await inSync(true)).toHaveLength(4);
  }, 600_000);

  it("a restore without KEEP_CDC: the refresh reads CDC off, update enables it again, and a rebuild refills the target", async () => {
    expect(cdcState && schemaState && sourceState, "the pipeline of the first tests").toBeTruthy();
    // A restore needs the database to itself: the source connector lets go of it first.
    const stopped = await checked(connectors, sourceInputs({ state: "stopped" }), sourceInputs());
    sourceState = (await connectors.update(sourceState!.name, sourceState!, stopped)).outs!;
    expect(sourceState.state).toBe("stopped");

    const backup = `/var/opt/mssql/data/${database}.bak`;
    // BACKUP and RESTORE take names from variables of their own types (the parameters are nvarchar(max)).
    await sql(
      master,
      `DECLARE @db sysname = @database, @file nvarchar(260) = @backup;
       BACKUP DATABASE @db TO DISK = @file WITH INIT, COPY_ONLY;`,
      { database, backup },
    );
    // SQL Server keeps CDC when a database is restored under its own name on the same server; restored
    // under another name (or on another server, the DR site) it loses it without KEEP_CDC. So the backup is
    // restored under a new name and put in the old one's place, as a restore at the other site would be.
    const files = await sql<{ name: string; type_desc: string; physical_name: string }>(
      master,
      "SELECT name, type_desc, physical_name FROM sys.master_files WHERE database_id = DB_ID(@database)",
      { database },
    );
    const data = files.find((f) => f.type_desc === "ROWS")!;
    const log = files.find((f) => f.type_desc === "LOG")!;
    const beside = (file: string, suffix: string) => file.replace(/[^/\\]+$/, `${restored}${suffix}`);
    await sql(
      master,
      `DECLARE @db sysname = @restored, @file nvarchar(260) = @backup, @dataName sysname = @data,
               @dataPath nvarchar(260) = @dataFile, @logName sysname = @log, @logPath nvarchar(260) = @logFile;
       RESTORE DATABASE @db FROM DISK = @file WITH MOVE @dataName TO @dataPath, MOVE @logName TO @logPath;`,
      {
        restored,
        backup,
        data: data.name,
        dataFile: beside(data.physical_name, ".mdf"),
        log: log.name,
        logFile: beside(log.physical_name, "_log.ldf"),
      },
    );
    await dropDatabase(master, database);
    await sql(
      master,
      `DECLARE @sql nvarchar(max) = N'ALTER DATABASE ' + QUOTENAME(@restored) + N' MODIFY NAME = ' + QUOTENAME(@database);
       EXEC (@sql);`,
      { restored, database },
    );
    await recordIfAsked(source, "live-pipeline-restored", (client) => readSqlServerCdc(client, ""));

    const inputs = await checked(cdc, cdcInputs(["id", "name", "email"]), cdcState);
    const drifted = (await cdc.read(cdcId, cdcState)).props!;
    expect(drifted.cdcEnabled).toBe(false);
    expect(captured(drifted)).toEqual([]);
    expect(sqlServerCdcDrift(drifted, inputs)).toEqual(["CDC is not enabled on the database"]);
    expect((await cdc.diff(cdcId, drifted, inputs)).changes).toBe(true);
    cdcState = (await cdc.update(cdcId, drifted, inputs)).outs!;
    expect(cdcState.cdcEnabled).toBe(true);
    expect(captured(cdcState)).toEqual([[oldInstance, ["id", "name", "email"]]]);
    expect.soft(cdcState.jobs.capture).toEqual({ pollingInterval: 1, maxTrans: 500 });
    expect.soft((await cdc.diff(cdcId, cdcState, inputs)).changes, "nothing left to change once applied").toBe(false);

    // pipeline.rebuild, as the component applies it: the target emptied, the source's offsets reset and a
    // snapshot of the restored database.
    schemaState = (
      await schemas.update("x", schemaState!, await checked(schemas, schemaInputs(true, "restore-1"), schemaState))
    ).outs!;
    const rebuilt = await checked(connectors, sourceInputs({ offsetsResetToken: "restore-1" }), stopped);
    sourceState = (await connectors.update(sourceState.name, sourceState, rebuilt)).outs!;
    expect(sourceState.state).toBe("running");
    expect(await inSync(true)).toHaveLength(4);
    await sql(source, `INSERT INTO dbo.[${table}] (id, name, email) VALUES (6, N'Kathleen', N'kb@example.com')`);
    await sql(source, `DELETE FROM dbo.[${table}] WHERE id = 3`);
    expect((await inSync(true)).map((r) => r.id)).toEqual([1, 4, 5, 6]);
  }, 600_000);

  it("a hand-made source of the runbooks' shape is adopted: its offsets taken over, no row written again", async () => {
    expect(sourceState, "the pipeline of the first tests").toBeTruthy();
    const rest = axios.create({ baseURL: harness.connectUrl, validateStatus: () => true });
    // The stack's source gone with its offsets; a hand-made one in its place, as the runbooks POST it.
    await connectors.delete(sourceState!.name, sourceState!);
    sourceState = undefined;
    const handMade = `sqlserver-source-connector-${run}`;
    const { config, sensitiveConfig } = sourceInputs();
    expect((await rest.post("/connectors", { name: handMade, config: { ...config, ...sensitiveConfig } })).status).toBe(
      201,
    );
    const committed = async (name: string) =>
      (await rest.get<{ offsets: { offset: unknown }[] }>(`/connectors/${name}/offsets`)).data.offsets.filter(
        (o) => o.offset,
      );
    await sql(source, `INSERT INTO dbo.[${table}] (id, name, email) VALUES (7, N'Barbara', N'bl@example.com')`);
    await inSync(true);
    // Something to hand over: without committed offsets the stack's connector would snapshot again.
    await eventually(
      () => committed(handMade),
      (o) => o.length > 0,
      120_000,
    );
    // Every write to the target from now on, logged: a snapshot would write every row again.
    await query("target", `CREATE TABLE public.${table}_writes (id integer NOT NULL)`);
    await query(
      "target",
      `CREATE FUNCTION public.${table}_log() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO public.${table}_writes VALUES (NEW.id); RETURN NEW; END $$`,
    );
    await query(
      "target",
      `CREATE TRIGGER ${table}_log AFTER INSERT OR UPDATE ON public.${table} FOR EACH ROW EXECUTE FUNCTION public.${table}_log()`,
    );
    try {
      const adopting = await checked(
        connectors,
        sourceInputs({ adoptFrom: { name: handMade, sameKeys: ADOPTION_KEYS.sqlserver } }),
      );
      sourceState = (await connectors.create(adopting)).outs!;
      expect(sourceState.state).toBe("running");
      expect((await rest.get(`/connectors/${handMade}`)).status).toBe(404);
      expect(await committed(sourceState.name)).not.toEqual([]);
      await sql(source, `INSERT INTO dbo.[${table}] (id, name, email) VALUES (8, N'Frances', N'fa@example.com')`);
      expect((await inSync(true)).map((r) => r.id)).toEqual([1, 4, 5, 6, 7, 8]);
      // Row 7 streamed just before the hand-over may be delivered twice; no other row is written again.
      const written = await query<{ id: number }>("target", `SELECT DISTINCT id FROM public.${table}_writes`);
      expect(written.map((r) => r.id).filter((id) => id !== 7)).toEqual([8]);
    } finally {
      await rest.delete(`/connectors/${handMade}`);
      await query("target", `DROP TRIGGER IF EXISTS ${table}_log ON public.${table}`);
      await query("target", `DROP TABLE IF EXISTS public.${table}_writes`);
      await query("target", `DROP FUNCTION IF EXISTS public.${table}_log()`);
    }
  }, 600_000);

  /**
   * The stack the commands would read for this pipeline (parseStackSettings checks it as `pulumi config`
   * would): resync and repair use its settings and passwords, not the Automation API stack.
   */
  const liveSite = (): StackSite => ({
    stack: undefined as unknown as StackSite["stack"],
    settings: parseStackSettings(
      {
        kafkaConnect: { url: harness.connectUrl, bootstrapServers: harness.env.CDC_KAFKA_BOOTSTRAP },
        pipeline: { topicPrefix: prefix },
        source: {
          engine: "sqlserver",
          host: server.host,
          port: server.port,
          database,
          user: server.user,
          encrypt: server.encrypt,
          trustServerCertificate: server.trustServerCertificate,
        },
        target: { ...harness.target, schema: "public" },
        tables: [
          {
            schema: "dbo",
            name: table,
            columns: [
              { name: "id", type: "integer", nullable: false },
              { name: "name", type: "text", nullable: false },
              { name: "email", type: "text" },
            ],
            primaryKey: ["id"],
          },
        ],
      },
      "live",
      new Set(["sourcePassword", "targetPassword"]),
    ),
    sourcePassword: server.password,
    targetPassword: harness.pgPassword,
  });
  const commandTimeouts = { timeoutMs: 300_000, settleMs: 5_000 };

  it("resync and repair through the signalling table: a condition the server refuses signals nothing; what differs is read again or deleted while streaming goes on; then reconcile matches", async () => {
    expect(sourceState, "the pipeline of the first tests").toBeTruthy();
    const site = liveSite();
    const signals = async () =>
      (await sql<{ n: number }>(source, `SELECT COUNT(*) AS n FROM dbo.[${signalTable.name}]`))[0].n;
    // The target put wrong by hand: a row missing, a row changed, a row the source does not have.
    await query("target", `DELETE FROM public.${table} WHERE id = 4`);
    await query("target", `UPDATE public.${table} SET name = 'by hand' WHERE id = 1`);
    await query("target", `INSERT INTO public.${table} (id, name) VALUES (99, 'stray')`);

    const before = await signals();
    await expect(
      resyncTable(site, { table: sourceTable, where: "no_such_column = 1", ...commandTimeouts }),
    ).rejects.toThrow(`--where is not a valid condition on dbo.${table}: Invalid column name 'no_such_column'`);
    await expect(resyncTable(site, { table: "dbo.nope", ...commandTimeouts })).rejects.toThrow(
      `--table: 'dbo.nope' is not one of the stack's tables (${sourceTable})`,
    );
    expect(await signals()).toBe(before);

    // Only the rows the condition selects are read again: row 4 is back, row 1 and the stray one are not put right.
    const resynced = await resyncTable(site, { table: sourceTable, where: "id >= 4", ...commandTimeouts });
    expect(resynced.scan).toEqual({ dataCollection: `${database}.${sourceTable}`, status: "SUCCEEDED", rows: 5 });
    expect(await signals()).toBeGreaterThan(before);
    const [afterResync] = resynced.reconciled.tables;
    expect([afterResync.missing.length, afterResync.changed.length, afterResync.extra.length]).toEqual([0, 1, 1]);
    expect((await targetRows(true)).find((r) => r.id === 4)).toEqual({
      id: 4,
      name: "Barbara",
      email: "bl@example.com",
    });

    const repair = (maxKeys: number) => repairSite(site, { dryRun: false, force: false, maxKeys, ...commandTimeouts });
    await expect(repair(1)).rejects.toThrow("2 keys differ, more than --max-keys 1: nothing was changed.");
    expect((await targetRows(true)).map((r) => r.id)).toContain(99);
    // Streaming went on through the resync.
    await sql(source, `INSERT INTO dbo.[${table}] (id, name, email) VALUES (10, N'Radia', N'rp@example.com')`);
    await eventually(
      () => targetRows(false),
      (rows) => rows.some((r) => r.id === 10),
      120_000,
    );
    const repaired = await repair(10);
    expect(repaired.repairs.map((r) => [r.table, r.reemitted.length, r.deleted.length])).toEqual([[sourceTable, 1, 1]]);
    expect(repaired.scans.map((s) => s.status)).toEqual(["SUCCEEDED"]);
    expect(repaired.status).toBe("match");
    expect((await inSync(true)).map((r) => r.id)).toEqual([1, 4, 5, 6, 7, 8, 10]);
  }, 900_000);

  it("the cleanup job removed changes the connector had not read: up resumes it at the newest change and backfills the table, the target never emptied, reconcile matches", async () => {
    expect(cdcState && sourceState, "the pipeline of the first tests").toBeTruthy();
    const backfillInputs = (resumeToken?: string): SourceBackfillInputs => ({
      source: { ...source, engine: "sqlserver" },
      target: { ...harness.target, password: harness.pgPassword, schema: "public" },
      signalTable,
      notifications: { bootstrapServers: harness.env.CDC_KAFKA_BOOTSTRAP, topic: names.notificationTopic },
      tables: [
        {
          schema: "dbo",
          name: table,
          columns: [
            { name: "id", type: "integer" },
            { name: "name", type: "text" },
            { name: "email", type: "text" },
          ],
          primaryKey: ["id"],
        },
      ],
      resumeToken,
      timeoutSeconds: 300,
    });
    // The backfill as the component declares it with the pipeline: no resume point yet, nothing to read.
    let backfill: SourceBackfillState = (await backfills.create(await checked(backfills, backfillInputs()))).outs!;
    const running = sourceInputs({
      adoptFrom: { name: `sqlserver-source-connector-${run}`, sameKeys: ADOPTION_KEYS.sqlserver },
    });
    const stopped = await checked(connectors, { ...running, state: "stopped" }, running);
    sourceState = (await connectors.update(sourceState!.name, sourceState!, stopped)).outs!;

    const rowsSeen: number[] = [];
    const watch = setInterval(
      () =>
        void targetRows(false).then(
          (r) => rowsSeen.push(r.length),
          () => undefined,
        ),
      250,
    );
    try {
      // The gap: written while the connector is stopped, read into the change tables by the capture job...
      // (the insert last: the connector resumes at the newest transaction and may read it again, but not the others).
      await sql(source, `DELETE FROM dbo.[${table}] WHERE id = 5`);
      await sql(source, `UPDATE dbo.[${table}] SET name = N'changed in the gap' WHERE id = 4`);
      await sql(source, `INSERT INTO dbo.[${table}] (id, name, email) VALUES (11, N'in the gap', NULL)`);
      const instances = (
        await sql<{ capture_instance: string }>(source, "SELECT capture_instance FROM cdc.change_tables")
      ).map((r) => r.capture_instance);
      const changeTable = `cdc.[${instances.find((ci) => ci === oldInstance)}_CT]`;
      await eventually(
        () => sql<{ n: number }>(source, `SELECT COUNT(*) AS n FROM ${changeTable} WHERE id = 11 AND __$operation = 2`),
        (rows) => rows[0].n === 1,
        60_000,
      );
      // ...then removed by a cleanup past them, as the cleanup job does once they are older than its retention.
      for (const instance of instances) {
        await sql(
          source,
          `DECLARE @lsn binary(10) = sys.fn_cdc_get_max_lsn(), @instance sysname = @ci;
           EXEC sys.sp_cdc_cleanup_change_table @capture_instance = @instance, @low_water_mark = @lsn, @threshold = 100000;`,
          { ci: instance },
        );
      }

      // What refresh then sees: the connector's position is lost (drift); `up` moves it on.
      cdcState = (await cdc.read(cdcId, cdcState)).props!;
      expect(cdcState.positionLost).toBe(true);
      const inputs = await checked(cdc, cdcInputs(["id", "name", "email"]), cdcState);
      expect(sqlServerCdcDrift(cdcState, inputs).join("\n")).toContain(
        "the cleanup job removed changes it had not read",
      );
      expect((await cdc.diff(cdcId, cdcState, inputs)).changes).toBe(true);
      cdcState = (await cdc.update(cdcId, cdcState, inputs)).outs!;
      expect(cdcState.positionLost).toBe(false);
      expect(cdcState.resumeAt).toMatch(/^[0-9A-F]{20}$/);

      const resumed = await checked(
        connectors,
        { ...running, resumeFrom: sqlServerResumePoint(prefix, database, cdcState.resumeAt!) },
        stopped,
      );
      sourceState = (await connectors.update(sourceState.name, sourceState, resumed)).outs!;
      expect(sourceState.state).toBe("running");
      expect(sourceState.resumeFrom?.token).toBe(`${database}@${cdcState.resumeAt}`);
      const news = await checked(backfills, backfillInputs(sourceState.resumeFrom?.token), backfill);
      expect((await backfills.diff("b", backfill, news)).changes).toBe(true);
      backfill = (await backfills.update("b", backfill, news)).outs!;
      expect(backfill.lastBackfill).toMatchObject({
        tables: [sourceTable],
        reason: "resumed at a new position",
        deleted: { [sourceTable]: 1 },
      });

      const rows = await inSync(true);
      expect(rows.find((r) => r.id === 11)?.name).toBe("in the gap");
      expect(rows.find((r) => r.id === 4)?.name).toBe("changed in the gap");
      expect(rows.map((r) => r.id)).not.toContain(5);
      // Streaming goes on from the new position.
      await sql(source, `INSERT INTO dbo.[${table}] (id, name, email) VALUES (12, N'after', NULL)`);
      expect((await inSync(true)).map((r) => r.id)).toContain(12);
      // Nothing changed since: another `up` reads nothing again.
      const again = await checked(cdc, cdcInputs(["id", "name", "email"]), cdcState);
      expect((await cdc.diff(cdcId, cdcState, again)).changes).toBe(false);
    } finally {
      clearInterval(watch);
    }
    expect(rowsSeen.length).toBeGreaterThan(0);
    expect(Math.min(...rowsSeen), "the target was never emptied").toBeGreaterThan(0);
  }, 900_000);

  it.skipIf(!noAgentUrl)(
    "SQL Server Agent not running: create fails before changing anything, or warns with agentNotRunning=warn (skipped: set MSSQL_NO_AGENT_URL)",
    async () => {
      const other = mssqlConnection(noAgentUrl!);
      const otherMaster = { ...other, database: "master" };
      const otherDb = { ...other, database: `cdc_no_agent_${run}` };
      await withSqlServer(otherMaster, (client) => createDatabaseIfMissing(client, otherDb.database));
      try {
        await sql(otherDb, `CREATE TABLE dbo.[${table}] (id int PRIMARY KEY, name nvarchar(100) NOT NULL)`);
        const failing = await checked(cdc, {
          ...cdcInputs(["id", "name"]),
          ...otherDb,
          createDatabase: false,
          connector: undefined,
        });
        await expect(cdc.create(failing)).rejects.toThrow(/SQL Server Agent is not running/);
        const [db] = await sql<{ is_cdc_enabled: boolean }>(
          otherDb,
          "SELECT is_cdc_enabled FROM sys.databases WHERE name = DB_NAME()",
        );
        expect(db.is_cdc_enabled).toBe(false);
        await recordIfAsked(otherDb, "live-pipeline-agent-stopped", (client) => applySqlServerCdc(client, failing));

        const warning = await checked(cdc, { ...failing, agentNotRunning: "warn" });
        const created = await cdc.create(warning);
        const state = created.outs!;
        expect(state.agentRunning).toBe(false);
        expect(state.warnings).toEqual(
          expect.arrayContaining([expect.stringContaining("SQL Server Agent is not running")]),
        );
        // Enabled all the same: the capture job runs once the Agent is started.
        expect(state.cdcEnabled).toBe(true);
        expect(captured(state)).toEqual([[oldInstance, ["id", "name"]]]);
        await cdc.delete(created.id, state);
      } finally {
        await dropDatabase(otherMaster, otherDb.database);
      }
    },
    300_000,
  );
});

// Fencing a source database (lib/fencing.ts) on real servers: the harness's PostgreSQL, and SQL Server where
// one runs (MSSQL_URL, as in .github/workflows/sqlserver-live.yml). Each test fences a scratch database of its
// own, with a name that needs quoting: sessions already open are ended, a new one cannot write, fencing again
// changes nothing, and other databases are left alone.
import { afterAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import {
  fencePostgresDatabase,
  fenceSqlServerDatabase,
  postgresDatabaseReadOnly,
  sqlServerDatabaseReadOnly,
} from "../../lib/fencing";
import { clientConfig, ident, withClient } from "../../lib/postgres";
import { createDatabase, dropDatabase } from "../../lib/postgres-backup";
import { dropSqlServerDatabase } from "../../lib/sqlserver-backup";
import { createDatabaseIfMissing } from "../../lib/sqlserver-cdc-sql";
import { bracketed, withSqlServer, type SqlServerConnection } from "../../lib/sqlserver";
import { harness, mssqlConnection } from "../harness";

const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

describe("fencing a PostgreSQL database", () => {
  const server = { ...harness.source, password: harness.pgPassword };
  const database = `cdc_fence_${run}_"q"`;
  const onPostgres = <T>(work: (c: Client) => Promise<T>) => withClient({ ...server, database: "postgres" }, work);
  afterAll(() => dropDatabase(server, database));

  it("ends the open sessions, refuses writes in new ones, and is idempotent", async () => {
    await createDatabase(server, database);
    await withClient({ ...server, database }, (c) => c.query("CREATE TABLE t (id integer PRIMARY KEY)"));
    const open = new Client(clientConfig({ ...server, database }));
    // The client reports the end of its session (an error event, perhaps more than one).
    const ended = new Promise<Error>((resolve) => open.on("error", resolve));
    await open.connect();
    await open.query("INSERT INTO t VALUES (1)");

    const fence = await onPostgres((c) => fencePostgresDatabase(c, database));
    // The session opened here, and perhaps one just closed that had not quite gone yet.
    expect(fence).toMatchObject({ database, readOnly: true });
    expect(fence.sessionsEnded).toBeGreaterThanOrEqual(1);
    expect((await ended).message).toMatch(/terminat/);
    await open.end().catch(() => undefined);

    await expect(withClient({ ...server, database }, (c) => c.query("INSERT INTO t VALUES (2)"))).rejects.toThrow(
      /cannot execute INSERT in a read-only transaction/,
    );
    // Reading still works: the DR site is backed up from a fenced source.
    const rows = await withClient({ ...server, database }, (c) => c.query<{ id: number }>("SELECT id FROM t"));
    expect(rows.rows).toEqual([{ id: 1 }]);

    expect(await onPostgres((c) => fencePostgresDatabase(c, database))).toEqual({
      database,
      readOnly: true,
      sessionsEnded: 0,
    });
    expect(await onPostgres((c) => postgresDatabaseReadOnly(c, harness.source.database))).toBe(false);
  });

  it("is lifted by the restore that replaces the database (dropped and created anew)", async () => {
    await dropDatabase(server, database);
    await createDatabase(server, database);
    expect(await onPostgres((c) => postgresDatabaseReadOnly(c, database))).toBe(false);
    await withClient({ ...server, database }, (c) => c.query(`CREATE TABLE ${ident("written")} (id integer)`));
  });
});

const url = process.env.MSSQL_URL;
describe.skipIf(!url)("fencing a SQL Server database (skipped: set MSSQL_URL to run it)", () => {
  const server = url ? mssqlConnection(url) : ({} as SqlServerConnection);
  const master = { ...server, database: "master" };
  const database = `cdc_fence_${run}_x'y]z`;
  afterAll(() => withSqlServer(master, (c) => dropSqlServerDatabase(c, database)));

  it("rolls back the open sessions, refuses writes, and is idempotent", async () => {
    await withSqlServer(master, (c) => createDatabaseIfMissing(c, database));
    await withSqlServer({ ...server, database }, (c) => c.query("CREATE TABLE dbo.t (id int PRIMARY KEY)"));
    const fence = await withSqlServer(master, (c) => fenceSqlServerDatabase(c, database));
    expect(fence).toMatchObject({ database, readOnly: true });
    await expect(
      withSqlServer({ ...server, database }, (c) => c.query("INSERT INTO dbo.t VALUES (2)")),
    ).rejects.toThrow(/read-only/);
    expect((await withSqlServer(master, (c) => fenceSqlServerDatabase(c, database))).readOnly).toBe(true);
    expect(await withSqlServer(master, (c) => sqlServerDatabaseReadOnly(c, "master"))).toBe(false);
    // A database fenced by mistake is writable again by hand.
    await withSqlServer(master, (c) => c.query(`ALTER DATABASE ${bracketed(database)} SET READ_WRITE`));
    expect(await withSqlServer(master, (c) => sqlServerDatabaseReadOnly(c, database))).toBe(false);
  });
});

// Fencing an old primary's source database when it comes back after a failover: made read-only, so that an
// application still pointed at it cannot write there while another site serves writes (a split brain), and
// every session already open ended, since a session keeps the mode it started in. Idempotent: fencing a
// fenced database again changes nothing. A restore that replaces the database (failback) lifts the fence:
// the database it creates is a new one.
import type { Client } from "pg";
import { ident } from "./postgres";
import type { SqlClient } from "./sqlserver";
import { bracketed } from "./sqlserver";
import { unicodeLiteral } from "./sqlserver";

/** What fencing did to a database. */
export interface DatabaseFence {
  readonly database: string;
  /** Read-only now (checked after fencing, in a new transaction). */
  readonly readOnly: boolean;
  /** Sessions of the database that fencing ended. */
  readonly sessionsEnded: number;
}

/**
 * PostgreSQL: `default_transaction_read_only` set on the database, and its other sessions (clients and the
 * connector's walsender) ended. The client is connected to another database of the server (`postgres`), so
 * that it is not one of the sessions ended. A superuser can still `SET transaction_read_only = off`: that is
 * why fencing stops the connectors first; such a write reaches no target and the failback restore replaces it.
 */
export async function fencePostgresDatabase(client: Pick<Client, "query">, database: string): Promise<DatabaseFence> {
  await client.query(`ALTER DATABASE ${ident(database)} SET default_transaction_read_only = on`);
  const ended = await client.query<{ n: number }>(
    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000))::int AS n FROM pg_stat_activity " +
      "WHERE datname = $1 AND pid <> pg_backend_pid()",
    [database],
  );
  return { database, readOnly: await postgresDatabaseReadOnly(client, database), sessionsEnded: ended.rows[0].n };
}

/** Whether new sessions of a PostgreSQL database start read-only (its own setting, for every role). */
export async function postgresDatabaseReadOnly(client: Pick<Client, "query">, database: string): Promise<boolean> {
  const { rows } = await client.query<{ on: boolean }>(
    "SELECT coalesce(bool_or(s = 'default_transaction_read_only=on'), false) AS on " +
      "FROM pg_db_role_setting r JOIN pg_database d ON d.oid = r.setdatabase, unnest(r.setconfig) s " +
      "WHERE d.datname = $1 AND r.setrole = 0",
    [database],
  );
  return rows[0]?.on ?? false;
}

/** SQL Server: `SET READ_ONLY WITH ROLLBACK IMMEDIATE`, which rolls back and ends the database's sessions. */
export async function fenceSqlServerDatabase(client: SqlClient, database: string): Promise<DatabaseFence> {
  const sessions = await client.query<{ n: number }>(
    `SELECT count(*) AS n FROM sys.dm_exec_sessions WHERE database_id = DB_ID(${unicodeLiteral(database)}) AND session_id <> @@SPID`,
  );
  await client.query(`ALTER DATABASE ${bracketed(database)} SET READ_ONLY WITH ROLLBACK IMMEDIATE`);
  return { database, readOnly: await sqlServerDatabaseReadOnly(client, database), sessionsEnded: sessions[0].n };
}

export async function sqlServerDatabaseReadOnly(client: SqlClient, database: string): Promise<boolean> {
  const rows = await client.query<{ is_read_only: boolean }>(
    `SELECT is_read_only FROM sys.databases WHERE name = ${unicodeLiteral(database)}`,
  );
  return rows[0]?.is_read_only === true;
}

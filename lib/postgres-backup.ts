// A PostgreSQL database backed up and restored with pg_dump and pg_restore (custom format). The dump runs in
// a snapshot a session of ours exported: what that session counts and hashes in the same snapshot is exactly
// what the dump holds, however busy the database is while it runs.
import { spawn } from "node:child_process";
import * as path from "node:path";
import type { Readable } from "node:stream";
import type { Client } from "pg";
import { ident, literal, withClient, type PostgresConnection } from "./postgres";
import { completion, consumeOutput } from "./child-process";

/** A PostgreSQL program: in $CDC_PG_BIN, else on PATH (pg_ctl and postgres are often only in the former). */
export const pgProgram = (name: string): string =>
  process.env.CDC_PG_BIN ? path.join(process.env.CDC_PG_BIN, name) : name;

/**
 * The password reaches the tools in their environment, never on their command line (ps shows that). A server
 * that does not answer (a site cut off) fails the connection within seconds, as the pg client's does.
 */
export const toolEnv = (conn: PostgresConnection) => ({
  ...process.env,
  PGPASSWORD: conn.password,
  PGAPPNAME: "cdc-pipeline",
  PGCONNECT_TIMEOUT: "10",
});
export const serverArgs = (conn: PostgresConnection) => ["-h", conn.host, "-p", String(conn.port), "-U", conn.user];
const connectionArgs = (conn: PostgresConnection, database: string) => [...serverArgs(conn), "-d", database];

/** Where the dump stands: the snapshot it reads and the WAL position that snapshot is consistent at. */
export interface DumpSnapshot {
  readonly snapshot: string;
  readonly position: string;
}

/**
 * Dumps `conn.database` in custom format, without publications and subscriptions (a restored copy has no
 * CDC until its stack enables it). `inSnapshot` runs first, in the exported snapshot, over the session that
 * holds it; then `consume` reads the dump's bytes as pg_dump writes them. The snapshot stays open until
 * pg_dump is done.
 */
export async function dumpDatabase<T>(
  conn: PostgresConnection,
  inSnapshot: (client: Client, at: DumpSnapshot) => Promise<T>,
  consume: (dump: Readable) => Promise<void>,
): Promise<{ at: DumpSnapshot; facts: T }> {
  return withClient(conn, async (client) => {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows } = await client.query<{ snapshot: string; position: string }>(
      "SELECT pg_export_snapshot() AS snapshot, pg_current_wal_lsn()::text AS position",
    );
    const at = rows[0];
    const facts = await inSnapshot(client, at);
    const child = spawn(
      pgProgram("pg_dump"),
      [
        ...connectionArgs(conn, conn.database),
        "--format=custom",
        `--snapshot=${at.snapshot}`,
        "--no-publications",
        "--no-subscriptions",
      ],
      { env: toolEnv(conn), stdio: ["ignore", "pipe", "pipe"] },
    );
    await consumeOutput(child, "pg_dump", [conn.password], consume);
    await client.query("COMMIT");
    return { at, facts };
  });
}

/** Whether a database exists, and whether it holds any table, view or sequence of its own. */
export async function databaseState(
  server: PostgresConnection,
  database: string,
): Promise<"missing" | "empty" | "not empty"> {
  const exists = await withClient({ ...server, database: "postgres" }, async (c) => {
    const res = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    return res.rowCount === 1;
  });
  if (!exists) return "missing";
  return withClient({ ...server, database }, async (c) => {
    const res = await c.query(
      `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
         AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') LIMIT 1`,
    );
    return res.rowCount === 0 ? "empty" : "not empty";
  });
}

/**
 * Drops a database, whatever holds it: connections are refused and ended, its replication slots (which pin
 * it) dropped. Idempotent: a database already gone is fine.
 */
export async function dropDatabase(server: PostgresConnection, database: string): Promise<void> {
  await withClient({ ...server, database: "postgres" }, async (c) => {
    const exists = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (exists.rowCount === 0) return;
    await c.query(`ALTER DATABASE ${ident(database)} ALLOW_CONNECTIONS false`);
    await c.query("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = $1", [database]);
    await c.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1", [
      database,
    ]);
    await c.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`);
  });
}

export async function createDatabase(server: PostgresConnection, database: string): Promise<void> {
  await withClient({ ...server, database: "postgres" }, async (c) => {
    const exists = await c.query(`SELECT 1 FROM pg_database WHERE datname = ${literal(database)}`);
    if (exists.rowCount === 0) await c.query(`CREATE DATABASE ${ident(database)}`);
  });
}

/** Restores a custom-format dump file into an existing, empty database; objects owned by whoever restores. */
export async function restoreDump(server: PostgresConnection, database: string, file: string): Promise<void> {
  const child = spawn(
    pgProgram("pg_restore"),
    [...connectionArgs(server, database), "--no-owner", "--exit-on-error", file],
    { env: toolEnv(server), stdio: ["ignore", "ignore", "pipe"] },
  );
  await completion(child, "pg_restore", [server.password]);
}

/** Dumps a database (custom format) to a file: pg_dump's own, for a database nobody else writes to. */
export async function dumpToFile(conn: PostgresConnection, file: string): Promise<void> {
  const child = spawn(pgProgram("pg_dump"), [...connectionArgs(conn, conn.database), "--format=custom", "-f", file], {
    env: toolEnv(conn),
    stdio: ["ignore", "ignore", "pipe"],
  });
  await completion(child, "pg_dump", [conn.password]);
}

// SQL Server access for the providers and the operations commands: a small query interface over the mssql
// driver, so the T-SQL can be run against a real server or replayed from a recording (no SQL Server can run
// on the build machines); one way to connect, one way to quote.
import * as mssql from "mssql";
import { z } from "zod";
import { redact } from "./redact";

export type SqlParam = string | number | boolean | null;

/** What the SQL Server code needs of a driver: parameterised queries returning rows. */
export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, SqlParam>): Promise<T[]>;
}

/** A bracketed T-SQL identifier, as QUOTENAME writes it: [my]]table]. Safe for any name. */
export function bracketed(name: string): string {
  return `[${name.replace(/]/g, "]]")}]`;
}

/** A T-SQL Unicode string literal, quotes doubled: N'it''s'. Safe for any text. */
export function unicodeLiteral(text: string): string {
  return `N'${text.replace(/'/g, "''")}'`;
}

/** A SQL Server name (sysname): 1 to 128 characters; any characters, since names are always quoted. */
export const sqlServerName = z
  .string("must be a name of 1 to 128 characters")
  .min(1, "must be a name of 1 to 128 characters")
  .max(128, "must be a name of 1 to 128 characters");

const portMessage = (issue: { input?: unknown }) =>
  `must be a port number from 1 to 65535, got '${String(issue.input)}'`;

/** A connection as a provider's inputs carry it; each provider's input schema extends this one. */
export const sqlServerConnectionSchema = z.object({
  host: sqlServerName,
  port: z.int({ error: portMessage }).min(1, { error: portMessage }).max(65535, { error: portMessage }),
  database: sqlServerName,
  user: sqlServerName,
  password: z.string("must be a string (set it as a secret)"),
  /** Encrypt the connection (TLS). Default: true. */
  encrypt: z.boolean("must be true or false").default(true),
  /** Accept a server certificate no CA vouches for (self-signed containers). Default: false. */
  trustServerCertificate: z.boolean("must be true or false").default(false),
});

/** How to reach a SQL Server database. The password is a secret wherever it is stored. */
export type SqlServerConnection = z.infer<typeof sqlServerConnectionSchema>;

/** How long one statement may run: a minute, or longer for a statement that is long by nature (a BACKUP). */
export function mssqlConfig(conn: SqlServerConnection, requestTimeoutMs = 60_000): mssql.config {
  return {
    server: conn.host,
    port: conn.port,
    database: conn.database,
    user: conn.user,
    password: conn.password,
    options: { encrypt: conn.encrypt, trustServerCertificate: conn.trustServerCertificate },
    connectionTimeout: 15_000,
    requestTimeout: requestTimeoutMs,
  };
}

/** "user@host:port/database", for messages (never the password). */
export function describeSqlServer(conn: SqlServerConnection): string {
  return `${conn.user}@${conn.host}:${conn.port}/${conn.database}`;
}

/**
 * Runs `work` with a client on a real server through the mssql driver. Errors name the server, never the
 * password (a driver error can quote the connection settings).
 */
export async function withSqlServer<T>(
  conn: SqlServerConnection,
  work: (client: SqlClient) => Promise<T>,
  requestTimeoutMs?: number,
): Promise<T> {
  const pool = new mssql.ConnectionPool(mssqlConfig(conn, requestTimeoutMs));
  const client: SqlClient = {
    async query<R>(sql: string, params: Record<string, SqlParam> = {}) {
      const request = pool.request();
      for (const [name, value] of Object.entries(params)) {
        if (typeof value === "number") request.input(name, mssql.Int, value);
        else if (typeof value === "boolean") request.input(name, mssql.Bit, value);
        else request.input(name, mssql.NVarChar(mssql.MAX), value);
      }
      return (await request.query<R>(sql)).recordset ?? [];
    },
  };
  try {
    await pool.connect();
    return await work(client);
  } catch (err) {
    throw new Error(`SQL Server ${describeSqlServer(conn)}: ${redact((err as Error).message, [conn.password])}`);
  } finally {
    await pool.close().catch(() => undefined);
  }
}

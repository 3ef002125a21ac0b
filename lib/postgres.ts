// PostgreSQL connections for the providers: one way to connect, one way to quote.
import type { Client, ClientConfig } from "pg";

/** How to reach a PostgreSQL database. The password is a secret wherever it is stored. */
export interface PostgresConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

/** Connection settings for pg, with a bounded connect timeout so an unreachable host fails fast. */
export function clientConfig(conn: PostgresConnection): ClientConfig {
  const { host, port, database, user, password } = conn;
  return { host, port, database, user, password, connectionTimeoutMillis: 10_000 };
}

/** "user@host:port/database", for messages (never the password). */
export function describeConnection(conn: PostgresConnection): string {
  return `${conn.user}@${conn.host}:${conn.port}/${conn.database}`;
}

/**
 * Runs `work` with a connected client and closes it. Requires pg when called: the providers are
 * serialized into the state (README, "Dynamic providers"). Errors name the server, never the password.
 */
export async function withClient<T>(conn: PostgresConnection, work: (client: Client) => Promise<T>): Promise<T> {
  const { Client: PgClient } = require("pg") as typeof import("pg");
  const client = new PgClient(clientConfig(conn));
  try {
    await client.connect();
    return await work(client);
  } catch (err) {
    throw new Error(`PostgreSQL ${describeConnection(conn)}: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A quoted identifier ("my ""table"""), safe for any name: quotes, semicolons, unicode, reserved words. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A quoted schema-qualified name. */
export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/** A quoted string literal, for the few places SQL takes no parameter (a role's password). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

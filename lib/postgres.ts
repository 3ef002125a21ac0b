// PostgreSQL connections: one way to connect, one way to quote (pg's own escaping), for the providers and
// the operations commands alike.
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { Client, escapeIdentifier, escapeLiteral, type ClientConfig } from "pg";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { redact } from "./redact";

/** A PostgreSQL name: 1 to 63 bytes (NAMEDATALEN - 1); any characters, since names are always quoted. */
export const pgName = z
  .string("must be a name of 1 to 63 bytes")
  .refine((value) => value.length > 0 && Buffer.byteLength(value) <= 63, "must be a name of 1 to 63 bytes");

/** A connection as a provider's inputs carry it; each provider's input schema extends this one. */
export const postgresConnectionSchema = z.object({
  /** Host name or address of the server. */
  host: z.string("must be a host name or address").min(1, "must be a host name or address").max(253),
  /** TCP port of the server. */
  port: z
    .int({ error: (issue) => `must be a port number from 1 to 65535, got '${String(issue.input)}'` })
    .min(1)
    .max(65535),
  /** Database to connect to. */
  database: pgName,
  /** Role to connect as. */
  user: pgName,
  /** Its password. */
  password: z.string("must be a string (set it as a secret)"),
});

/** How to reach a PostgreSQL database. The password is a secret wherever it is stored. */
export type PostgresConnection = z.infer<typeof postgresConnectionSchema>;

/** Connection settings for pg, with a bounded connect timeout (10 s unless given) so an unreachable host fails fast. */
export function clientConfig(conn: PostgresConnection, connectTimeoutMs = 10_000): ClientConfig {
  const { host, port, database, user, password } = conn;
  // The application name shows the pipeline's own sessions in pg_stat_activity and the server's log.
  return {
    host,
    port,
    database,
    user,
    password,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: "cdc-pipeline",
  };
}

/** The connection as resource arguments (each may come from another resource's output). */
export interface PostgresConnectionArgs {
  /** Host name or address of the server. */
  readonly host: pulumi.Input<string>;
  /** TCP port of the server. */
  readonly port: pulumi.Input<number>;
  /** Database to connect to. */
  readonly database: pulumi.Input<string>;
  /** Role to connect as. */
  readonly user: pulumi.Input<string>;
  /** Its password; kept secret in the state. */
  readonly password: pulumi.Input<string>;
}

/** "user@host:port/database", for messages (never the password). */
export function describeConnection(conn: PostgresConnection): string {
  return `${conn.user}@${conn.host}:${conn.port}/${conn.database}`;
}

/**
 * Runs `work` with a connected client and closes it. Errors name the server, never the password (a driver
 * error can quote the connection settings).
 */
export async function withClient<T>(
  conn: PostgresConnection,
  work: (client: Client) => Promise<T>,
  connectTimeoutMs?: number,
): Promise<T> {
  const client = new Client(clientConfig(conn, connectTimeoutMs));
  try {
    await client.connect();
    return await work(client);
  } catch (err) {
    throw new Error(`PostgreSQL ${describeConnection(conn)}: ${redact((err as Error).message, [conn.password])}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A quoted identifier ("my ""table"""), safe for any name: quotes, semicolons, unicode, reserved words. */
export function ident(name: string): string {
  return escapeIdentifier(name);
}

/** A quoted schema-qualified name. */
export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/**
 * A role's password as PostgreSQL stores it (SCRAM-SHA-256, RFC 7677), for CREATE/ALTER ROLE ... PASSWORD,
 * which takes no parameter: the server, its statement log and pg_stat_activity then never see the
 * plaintext. NFKC stands in for SASLprep, which changes nothing in an ASCII password.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256");
  const hmac = (text: string) => createHmac("sha256", salted).update(text).digest();
  const storedKey = createHash("sha256").update(hmac("Client Key")).digest("base64");
  const serverKey = hmac("Server Key").toString("base64");
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey}:${serverKey}`;
}

/** A quoted string literal, for the few places SQL takes no parameter. */
export function literal(value: string): string {
  return escapeLiteral(value);
}

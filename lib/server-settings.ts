// The facts PostgresServer records about a PostgreSQL server: its version and the settings the pipeline
// relies on (wal_level=logical on a CDC source), and which of them differ from what is required.
import type { Client } from "pg";

export interface PostgresServerFacts {
  serverVersion: string;
  /** The current value of every required setting. */
  settings: Record<string, string>;
}

/** Reads the server version and the named settings. */
export async function fetchServerFacts(client: Pick<Client, "query">, names: string[]): Promise<PostgresServerFacts> {
  const version = await client.query<{ server_version: string }>("SHOW server_version");
  const rows = await client.query<{ name: string; setting: string }>(
    "SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name",
    [names],
  );
  const settings: Record<string, string> = {};
  for (const row of rows.rows) settings[row.name] = row.setting;
  return { serverVersion: version.rows[0].server_version, settings };
}

/** One line per required setting whose value differs (or that the server does not know). */
export function settingMismatches(facts: PostgresServerFacts, required: Record<string, string>): string[] {
  return Object.entries(required)
    .filter(([name, want]) => facts.settings[name] !== want)
    .map(([name, want]) => `${name} is '${facts.settings[name] ?? "unknown"}', must be '${want}'`);
}

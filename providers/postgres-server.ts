// PostgresServer: a read-only view of a PostgreSQL server (version and the settings the pipeline relies
// on) that fails early when a required setting is wrong, for example a CDC source without
// wal_level=logical. It changes nothing on the server; refresh re-reads it, so a changed setting is drift.
import * as pulumi from "@pulumi/pulumi";
import type { Client } from "pg";
import { connectionFailures, withClient, type PostgresConnection, type PostgresConnectionArgs } from "../lib/postgres";

export interface PostgresServerInputs extends PostgresConnection {
  /** Settings that must have these values, for example { wal_level: "logical" }. */
  requiredSettings: Record<string, string>;
}

export interface PostgresServerFacts {
  serverVersion: string;
  /** The current value of every required setting. */
  settings: Record<string, string>;
}

export type PostgresServerState = PostgresServerInputs & PostgresServerFacts;

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

/** The server as it is now; a wrong setting is reported, not thrown, so refresh can record drift. */
async function observe(inputs: PostgresServerInputs): Promise<PostgresServerState> {
  const facts = await withClient(inputs, (client) => fetchServerFacts(client, Object.keys(inputs.requiredSettings)));
  return { ...inputs, ...facts };
}

/** create and update succeed only on a server whose required settings hold. */
async function observeReady(inputs: PostgresServerInputs): Promise<PostgresServerState> {
  const state = await observe(inputs);
  const mismatches = settingMismatches(state, inputs.requiredSettings);
  if (mismatches.length > 0) {
    throw new Error(`PostgreSQL ${inputs.host}:${inputs.port}/${inputs.database}: ${mismatches.join("; ")}`);
  }
  return state;
}

const CONNECTION_KEYS = ["host", "port", "database"] as const;

export const postgresServerProvider: pulumi.dynamic.ResourceProvider<PostgresServerInputs, PostgresServerState> = {
  async check(_olds, news) {
    const inputs = { ...news, requiredSettings: news.requiredSettings ?? {} };
    return { inputs, failures: connectionFailures(inputs) };
  },
  async diff(_id, olds, news) {
    // Another server is another resource; a new user, password or required setting is re-checked in
    // place. olds holds the server as last observed (refresh updates it): a setting changed by hand is drift.
    const replaces = CONNECTION_KEYS.filter((key) => olds[key] !== news[key]);
    const changed =
      replaces.length > 0 ||
      olds.user !== news.user ||
      olds.password !== news.password ||
      JSON.stringify(olds.requiredSettings) !== JSON.stringify(news.requiredSettings) ||
      settingMismatches(olds, news.requiredSettings).length > 0;
    return { changes: changed, replaces: [...replaces] };
  },
  async create(inputs) {
    const state = await observeReady(inputs);
    return { id: `${inputs.host}:${inputs.port}/${inputs.database}`, outs: state };
  },
  async read(id, props) {
    if (!props) throw new Error(`PostgresServer ${id}: cannot read without its recorded connection`);
    return { id, props: await observe(props) };
  },
  async update(_id, _olds, news) {
    return { outs: await observeReady(news) };
  },
  async delete() {
    // Nothing was created on the server.
  },
};

export interface PostgresServerArgs extends PostgresConnectionArgs {
  /** Settings that must have these values, for example { wal_level: "logical" }. Default: none. */
  readonly requiredSettings?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class PostgresServer extends pulumi.dynamic.Resource {
  declare readonly serverVersion: pulumi.Output<string>;
  declare readonly settings: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: PostgresServerArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      postgresServerProvider,
      name,
      {
        requiredSettings: {},
        ...args,
        password: pulumi.secret(args.password),
        serverVersion: undefined,
        settings: undefined,
      },
      { ...opts, additionalSecretOutputs: ["password"] },
      "cdc-pipeline",
      "PostgresServer",
    );
  }
}

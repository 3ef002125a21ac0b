// PostgresServer: a read-only view of a PostgreSQL server (version and the settings the pipeline relies
// on) that fails early when a required setting is wrong, for example a CDC source without
// wal_level=logical. It changes nothing on the server; refresh re-reads it, so a changed setting is drift.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { checkInputs } from "../lib/input-check";
import { installedProvider } from "../lib/installed-provider";
import { postgresConnectionSchema, withClient, type PostgresConnectionArgs } from "../lib/postgres";
import { fetchServerFacts, settingMismatches, type PostgresServerFacts } from "../lib/server-settings";
import { versionedProvider, type ProviderState } from "../lib/versioned-provider";

const inputsSchema = postgresConnectionSchema.extend({
  /** Settings that must have these values, for example { wal_level: "logical" }. */
  requiredSettings: z.record(z.string(), z.string("must be a map of setting names to values")).default({}),
});

export type PostgresServerInputs = z.infer<typeof inputsSchema>;
export type PostgresServerState = PostgresServerInputs & PostgresServerFacts;

/** The server as it is now; a wrong setting is reported, not thrown, so refresh can record drift. */
async function readServer(inputs: PostgresServerInputs): Promise<PostgresServerState> {
  const facts = await withClient(inputs, (client) => fetchServerFacts(client, Object.keys(inputs.requiredSettings)));
  return { ...inputs, ...facts };
}

/** create and update succeed only on a server whose required settings hold. */
async function readReadyServer(inputs: PostgresServerInputs): Promise<PostgresServerState> {
  const state = await readServer(inputs);
  const mismatches = settingMismatches(state, inputs.requiredSettings);
  if (mismatches.length > 0) {
    throw new Error(`PostgreSQL ${inputs.host}:${inputs.port}/${inputs.database}: ${mismatches.join("; ")}`);
  }
  return state;
}

const CONNECTION_KEYS = ["host", "port", "database"] as const;

/** What a state holds: the inputs and the facts read. */
const STATE_KEYS = [...Object.keys(inputsSchema.shape), "serverVersion", "settings", "providerVersion"];

/**
 * Version 1 to 2: de520ab's program passed the whole source and target settings, so its states also hold
 * keys no check ever looked at (engine, encrypt, trustServerCertificate, schema); version 2 holds none.
 */
export function dropUndeclaredKeys(state: ProviderState): ProviderState {
  return Object.fromEntries(Object.entries(state).filter(([key]) => STATE_KEYS.includes(key)));
}

/** The implementation, loaded by the serialized shim below from the installed project. */
export const postgresServerProvider = versionedProvider<PostgresServerInputs, PostgresServerState>(
  "PostgresServer",
  { version: 2, migrations: { 1: dropUndeclaredKeys } },
  {
    async check(_olds, news) {
      return checkInputs(inputsSchema, news as Record<string, unknown>);
    },
    async diff(_id, olds: PostgresServerState, news: PostgresServerInputs) {
      // Another server is another resource; a new user, password or required setting is re-checked in
      // place. olds holds the server as last observed (refresh updates it): a setting changed by hand is drift.
      // The password is compared as such, not through a hash: read needs it, so the state keeps it (encrypted).
      const replaces = CONNECTION_KEYS.filter((key) => olds[key] !== news[key]);
      const changed =
        replaces.length > 0 ||
        olds.user !== news.user ||
        olds.password !== news.password ||
        JSON.stringify(olds.requiredSettings) !== JSON.stringify(news.requiredSettings) ||
        settingMismatches(olds, news.requiredSettings).length > 0;
      return { changes: changed, replaces: [...replaces] };
    },
    async create(inputs: PostgresServerInputs) {
      const state = await readReadyServer(inputs);
      return { id: `${inputs.host}:${inputs.port}/${inputs.database}`, outs: state };
    },
    async read(id, props?: PostgresServerState) {
      if (!props) throw new Error(`PostgresServer ${id}: cannot read without its recorded connection`);
      return { id, props: await readServer(props) };
    },
    async update(_id, _olds, news: PostgresServerInputs) {
      return { outs: await readReadyServer(news) };
    },
    async delete() {
      // Nothing was created on the server.
    },
  },
);

export interface PostgresServerArgs extends PostgresConnectionArgs {
  /** Settings that must have these values, for example { wal_level: "logical" }. Default: none. */
  readonly requiredSettings?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

const postgresServerShim = installedProvider("PostgresServer");

export class PostgresServer extends pulumi.dynamic.Resource {
  declare readonly serverVersion: pulumi.Output<string>;
  declare readonly settings: pulumi.Output<Record<string, string>>;
  /** The provider version that last wrote this resource's state. */
  declare readonly providerVersion: pulumi.Output<number>;

  constructor(name: string, args: PostgresServerArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      postgresServerShim,
      name,
      {
        requiredSettings: {},
        ...args,
        password: pulumi.secret(args.password),
        serverVersion: undefined,
        settings: undefined,
        providerVersion: undefined,
      },
      { ...opts, additionalSecretOutputs: ["password"] },
      "cdc-pipeline",
      "PostgresServer",
    );
  }
}

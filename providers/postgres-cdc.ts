// PostgresCdc: a PostgreSQL database made ready for the Debezium PostgreSQL connector: wal_level checked,
// a publication for the listed tables, REPLICA IDENTITY FULL where a table has no primary key, optionally
// a logical replication slot (pgoutput) and a replication user with the grants Debezium needs. Refresh
// reads all of it back, so a table dropped from the publication or a dropped slot is drift.
import * as pulumi from "@pulumi/pulumi";
import type { Client } from "pg";
import {
  connectionFailures,
  ident,
  isPgName,
  literal,
  qualified,
  withClient,
  type PostgresConnection,
  type PostgresConnectionArgs,
} from "../lib/postgres";

export interface PgTable {
  schema: string;
  name: string;
}

export interface PostgresCdcInputs extends PostgresConnection {
  /** Publication the connector reads (publication.name, with publication.autocreate.mode=disabled). */
  publication: string;
  /** Tables to capture. */
  tables: PgTable[];
  /** Logical replication slot to create (slot.name); none when empty. */
  slot: string;
  /** Role to create for the connector (LOGIN REPLICATION, SELECT on the tables); none when empty. */
  replicationUser: string;
  /** Its password (secret). */
  replicationPassword: string;
}

/** What the database holds, as read back. */
export interface PostgresCdcFacts {
  walLevel: string;
  /** Tables in the publication, as "schema.name", sorted; empty when the publication is missing. */
  publishedTables: string[];
  publicationExists: boolean;
  slotExists: boolean;
  /** Tables without a primary key whose replica identity is not FULL (Debezium would miss their updates). */
  tablesNeedingFullIdentity: string[];
  replicationUserExists: boolean;
}

export type PostgresCdcState = PostgresCdcInputs & PostgresCdcFacts;

const tableKey = (t: PgTable): string => `${t.schema}.${t.name}`;

/** Tables of the list that do not exist, as "schema.name". */
export async function missingTables(client: Pick<Client, "query">, tables: PgTable[]): Promise<string[]> {
  const res = await client.query<{ schema: string; name: string }>(
    `SELECT t.schema, t.name FROM unnest($1::text[], $2::text[]) AS t(schema, name)
     WHERE NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = t.schema AND c.relname = t.name AND c.relkind IN ('r', 'p'))`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return res.rows.map(tableKey);
}

/** Reads everything the resource manages. */
export async function readCdcFacts(
  client: Pick<Client, "query">,
  inputs: Pick<PostgresCdcInputs, "publication" | "tables" | "slot" | "replicationUser">,
): Promise<PostgresCdcFacts> {
  const wal = await client.query<{ wal_level: string }>("SHOW wal_level");
  const publication = await client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [inputs.publication]);
  const published = await client.query<{ schemaname: string; tablename: string }>(
    "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1",
    [inputs.publication],
  );
  const slot = await client.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [inputs.slot]);
  const identity = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
     FROM unnest($1::text[], $2::text[]) AS t(schema, name)
     JOIN pg_namespace n ON n.nspname = t.schema
     JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.name
     WHERE c.relreplident <> 'f'
       AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)`,
    [inputs.tables.map((t) => t.schema), inputs.tables.map((t) => t.name)],
  );
  const user = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [inputs.replicationUser]);
  return {
    walLevel: wal.rows[0].wal_level,
    publicationExists: publication.rowCount === 1,
    publishedTables: published.rows.map((r) => `${r.schemaname}.${r.tablename}`).sort(),
    slotExists: inputs.slot !== "" && slot.rowCount === 1,
    tablesNeedingFullIdentity: identity.rows.map(tableKey).sort(),
    replicationUserExists: inputs.replicationUser !== "" && user.rowCount === 1,
  };
}

/** Brings the database to the inputs: idempotent, so a run that stopped half-way is simply run again. */
export async function applyCdc(client: Pick<Client, "query">, inputs: PostgresCdcInputs): Promise<void> {
  const facts = await readCdcFacts(client, inputs);
  if (facts.walLevel !== "logical") {
    throw new Error(
      `wal_level is '${facts.walLevel}', logical decoding needs 'logical': ALTER SYSTEM SET wal_level = logical, then restart the server`,
    );
  }
  const missing = await missingTables(client, inputs.tables);
  if (missing.length > 0) throw new Error(`tables not found: ${missing.join(", ")}`);
  for (const key of facts.tablesNeedingFullIdentity) {
    const table = inputs.tables.find((t) => tableKey(t) === key)!;
    await client.query(`ALTER TABLE ${qualified(table.schema, table.name)} REPLICA IDENTITY FULL`);
  }
  const list = inputs.tables.map((t) => qualified(t.schema, t.name)).join(", ");
  const verb = facts.publicationExists
    ? `ALTER PUBLICATION ${ident(inputs.publication)} SET TABLE`
    : `CREATE PUBLICATION ${ident(inputs.publication)} FOR TABLE`;
  await client.query(`${verb} ${list}`);
  if (inputs.slot && !facts.slotExists) {
    await client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [inputs.slot]);
  }
  if (inputs.replicationUser) {
    const role = ident(inputs.replicationUser);
    const verbRole = facts.replicationUserExists ? "ALTER ROLE" : "CREATE ROLE";
    await client.query(`${verbRole} ${role} WITH LOGIN REPLICATION PASSWORD ${literal(inputs.replicationPassword)}`);
    for (const schema of new Set(inputs.tables.map((t) => t.schema))) {
      await client.query(`GRANT USAGE ON SCHEMA ${ident(schema)} TO ${role}`);
    }
    await client.query(`GRANT SELECT ON ${list} TO ${role}`);
  }
}

/** Drops a replication slot if it exists; refuses while a connector reads it. */
export async function dropSlot(client: Pick<Client, "query">, slot: string): Promise<void> {
  const active = await client.query<{ active_pid: number }>(
    "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1 AND active",
    [slot],
  );
  if (active.rowCount) {
    throw new Error(
      `replication slot '${slot}' is in use (pid ${active.rows[0].active_pid}): delete the connector that reads it first`,
    );
  }
  await client.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", [
    slot,
  ]);
}

/** Drops a role and what it owns or was granted in this database, if it exists. */
export async function dropRole(client: Pick<Client, "query">, role: string): Promise<void> {
  const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
  if (!exists.rowCount) return;
  await client.query(`DROP OWNED BY ${ident(role)}`);
  await client.query(`DROP ROLE ${ident(role)}`);
}

/** Removes what the resource made: publication, slot, replication user. Anything already gone is fine. */
export async function dropCdc(client: Pick<Client, "query">, inputs: PostgresCdcInputs): Promise<void> {
  await client.query(`DROP PUBLICATION IF EXISTS ${ident(inputs.publication)}`);
  if (inputs.slot) await dropSlot(client, inputs.slot);
  if (inputs.replicationUser) await dropRole(client, inputs.replicationUser);
}

/** The ways the recorded (or live) state differs from the inputs, one line each. */
export function cdcDrift(state: PostgresCdcFacts, inputs: PostgresCdcInputs): string[] {
  const want = inputs.tables.map(tableKey).sort();
  const drift: string[] = [];
  if (!state.publicationExists) drift.push(`publication '${inputs.publication}' is missing`);
  else if (JSON.stringify(state.publishedTables) !== JSON.stringify(want)) {
    drift.push(`publication holds [${state.publishedTables.join(", ")}], declared [${want.join(", ")}]`);
  }
  if (inputs.slot && !state.slotExists) drift.push(`replication slot '${inputs.slot}' is missing`);
  if (state.tablesNeedingFullIdentity.length > 0) {
    drift.push(`tables without primary key lack REPLICA IDENTITY FULL: ${state.tablesNeedingFullIdentity.join(", ")}`);
  }
  if (inputs.replicationUser && !state.replicationUserExists) drift.push(`role '${inputs.replicationUser}' is missing`);
  return drift;
}

export function checkCdcInputs(news: Partial<PostgresCdcInputs>): pulumi.dynamic.CheckFailure[] {
  const failures = connectionFailures(news, ["publication"]);
  if (
    !Array.isArray(news.tables) ||
    news.tables.length === 0 ||
    news.tables.some((t) => !isPgName(t?.schema) || !isPgName(t?.name))
  ) {
    failures.push({
      property: "tables",
      reason: "must list at least one table, each with a schema and a name of 1 to 63 characters",
    });
  }
  if (news.slot && !/^[a-z0-9_]{1,63}$/.test(news.slot)) {
    failures.push({ property: "slot", reason: "a replication slot name may hold only a-z, 0-9 and _ (at most 63)" });
  }
  if (news.replicationUser && !isPgName(news.replicationUser)) {
    failures.push({ property: "replicationUser", reason: "must be a name of 1 to 63 characters" });
  }
  if (news.replicationUser && !news.replicationPassword) {
    failures.push({ property: "replicationPassword", reason: "is required with replicationUser" });
  }
  return failures;
}

async function observe(inputs: PostgresCdcInputs): Promise<PostgresCdcState> {
  return { ...inputs, ...(await withClient(inputs, (client) => readCdcFacts(client, inputs))) };
}

async function converge(inputs: PostgresCdcInputs): Promise<PostgresCdcState> {
  await withClient(inputs, (client) => applyCdc(client, inputs));
  return observe(inputs);
}

const CONNECTION_KEYS = ["host", "port", "database"] as const;

export const postgresCdcProvider: pulumi.dynamic.ResourceProvider<PostgresCdcInputs, PostgresCdcState> = {
  async check(_olds, news) {
    const inputs = {
      ...news,
      slot: news.slot ?? "",
      replicationUser: news.replicationUser ?? "",
      replicationPassword: news.replicationPassword ?? "",
    };
    return { inputs, failures: checkCdcInputs(inputs) };
  },
  async diff(_id, olds, news) {
    const replaces: string[] = CONNECTION_KEYS.filter((key) => olds[key] !== news[key]);
    if (olds.publication !== news.publication) replaces.push("publication");
    const changes =
      replaces.length > 0 ||
      cdcDrift(olds, news).length > 0 ||
      (["user", "password", "slot", "replicationUser", "replicationPassword"] as const).some(
        (k) => olds[k] !== news[k],
      );
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(inputs) {
    return {
      id: `${inputs.host}:${inputs.port}/${inputs.database}/${inputs.publication}`,
      outs: await converge(inputs),
    };
  },
  async read(id, props) {
    if (!props) throw new Error(`PostgresCdc ${id}: cannot read without its recorded connection`);
    return { id, props: await observe(props) };
  },
  async update(_id, olds, news) {
    // A slot or role no longer declared is dropped; the rest converges.
    await withClient(news, async (client) => {
      if (olds.slot && olds.slot !== news.slot) await dropSlot(client, olds.slot);
      if (olds.replicationUser && olds.replicationUser !== news.replicationUser) {
        await dropRole(client, olds.replicationUser);
      }
    });
    return { outs: await converge(news) };
  },
  async delete(_id, props) {
    await withClient(props, (client) => dropCdc(client, props));
  },
};

export interface PostgresCdcArgs extends PostgresConnectionArgs {
  /** Publication for the captured tables. */
  readonly publication: pulumi.Input<string>;
  /** Tables to capture. */
  readonly tables: pulumi.Input<pulumi.Input<PgTable>[]>;
  /** Logical replication slot (pgoutput) to create. Default: none (Debezium creates its own). */
  readonly slot?: pulumi.Input<string>;
  /** Role to create for the connector. Default: none. */
  readonly replicationUser?: pulumi.Input<string>;
  /** Its password (secret); required with replicationUser. */
  readonly replicationPassword?: pulumi.Input<string>;
}

export class PostgresCdc extends pulumi.dynamic.Resource {
  declare readonly walLevel: pulumi.Output<string>;
  declare readonly publishedTables: pulumi.Output<string[]>;
  declare readonly slotExists: pulumi.Output<boolean>;

  constructor(name: string, args: PostgresCdcArgs, opts?: pulumi.CustomResourceOptions) {
    const outputs = {
      walLevel: undefined,
      publishedTables: undefined,
      publicationExists: undefined,
      slotExists: undefined,
      tablesNeedingFullIdentity: undefined,
      replicationUserExists: undefined,
    };
    super(
      postgresCdcProvider,
      name,
      {
        ...outputs,
        ...args,
        password: pulumi.secret(args.password),
        replicationPassword: pulumi.secret(args.replicationPassword ?? ""),
      },
      { ...opts, additionalSecretOutputs: ["password", "replicationPassword"] },
      "cdc-pipeline",
      "PostgresCdc",
    );
  }
}

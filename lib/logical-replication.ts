// Logical replication on a PostgreSQL source, as the Debezium PostgreSQL connector reads it: a publication
// for the captured tables, REPLICA IDENTITY FULL where a table has no primary key (else Debezium misses
// the old values of updates and deletes), optionally a pgoutput slot, a replication role, a heartbeat
// table and a signalling table. PostgresCdc applies and reads it; `status` reads it too.
import type { Client } from "pg";
import { ident, literal, qualified, scramVerifier } from "./postgres";

export interface PgTable {
  /** Schema of the table. */
  readonly schema: string;
  /** Name of the table. */
  readonly name: string;
}

/** What is set up on the source database for the connector. */
export interface ReplicationSetup {
  /** Publication the connector reads (publication.name, with publication.autocreate.mode=disabled). */
  readonly publication: string;
  /** Tables to capture. */
  readonly tables: readonly PgTable[];
  /** Logical replication slot to create (slot.name); none when empty. */
  readonly slot: string;
  /** Role to create for the connector (LOGIN REPLICATION, SELECT on the tables); none when empty. */
  readonly replicationUser: string;
  /** Its password. */
  readonly replicationPassword: string;
  /**
   * A table, in the publication but not captured, that the connector's heartbeat.action.query writes: while the
   * captured tables are idle the connector still receives a change now and then, so it confirms the WAL it has
   * read to its slot and the server can recycle it (pgoutput sends nothing for other tables' transactions).
   * None when absent.
   */
  readonly heartbeatTable?: PgTable;
  /**
   * Debezium's signalling table (signal.data.collection), in the publication: a row inserted there reaches the
   * connector through the slot as a signal (an incremental snapshot), and the connector writes its snapshot
   * windows' watermarks there. None when absent.
   */
  readonly signalTable?: PgTable;
}

/** One of the pipeline's own tables on the source: its columns and what the connector's role may do to it. */
interface OwnTable {
  readonly table: PgTable;
  readonly columns: string;
  readonly privileges: string;
}

/** The pipeline's own tables the setup names: the heartbeat table, the signalling table. */
const ownTables = (setup: Pick<ReplicationSetup, "heartbeatTable" | "signalTable">): OwnTable[] => [
  ...(setup.heartbeatTable
    ? [
        {
          table: setup.heartbeatTable,
          columns: "id integer PRIMARY KEY, beat timestamptz NOT NULL",
          privileges: "INSERT, UPDATE",
        },
      ]
    : []),
  // Debezium reads the columns by position: id, type, data. A repair's data holds its keys: text.
  ...(setup.signalTable
    ? [
        {
          table: setup.signalTable,
          columns: "id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data text",
          privileges: "INSERT",
        },
      ]
    : []),
];

/** The statement the connector runs at each heartbeat (heartbeat.action.query): one row, rewritten. */
export function heartbeatQuery(table: PgTable): string {
  return `INSERT INTO ${qualified(table.schema, table.name)} (id, beat) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET beat = EXCLUDED.beat`;
}

/** The tables the publication holds: the captured ones and the pipeline's own. */
const publishedOf = (setup: Pick<ReplicationSetup, "tables" | "heartbeatTable" | "signalTable">): PgTable[] => [
  ...setup.tables,
  ...ownTables(setup).map((own) => own.table),
];

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

const tableKey = (t: PgTable): string => `${t.schema}.${t.name}`;

/** Tables of the list that do not exist, as "schema.name". */
async function missingTables(client: Pick<Client, "query">, tables: readonly PgTable[]): Promise<string[]> {
  const res = await client.query<{ schema: string; name: string }>(
    `SELECT t.schema, t.name FROM unnest($1::text[], $2::text[]) AS t(schema, name)
     WHERE NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = t.schema AND c.relname = t.name AND c.relkind IN ('r', 'p'))`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return res.rows.map(tableKey);
}

/** Reads everything PostgresCdc manages. */
export async function readCdcFacts(
  client: Pick<Client, "query">,
  setup: Pick<ReplicationSetup, "publication" | "tables" | "slot" | "replicationUser">,
): Promise<PostgresCdcFacts> {
  const wal = await client.query<{ wal_level: string }>("SHOW wal_level");
  const publication = await client.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [setup.publication]);
  const published = await client.query<{ schemaname: string; tablename: string }>(
    "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1",
    [setup.publication],
  );
  const slot = await client.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [setup.slot]);
  const identity = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
     FROM unnest($1::text[], $2::text[]) AS t(schema, name)
     JOIN pg_namespace n ON n.nspname = t.schema
     JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.name
     WHERE c.relreplident <> 'f'
       AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)`,
    [setup.tables.map((t) => t.schema), setup.tables.map((t) => t.name)],
  );
  const user = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [setup.replicationUser]);
  return {
    walLevel: wal.rows[0].wal_level,
    publicationExists: publication.rowCount === 1,
    publishedTables: published.rows.map((r) => `${r.schemaname}.${r.tablename}`).sort(),
    slotExists: setup.slot !== "" && slot.rowCount === 1,
    tablesNeedingFullIdentity: identity.rows.map(tableKey).sort(),
    replicationUserExists: setup.replicationUser !== "" && user.rowCount === 1,
  };
}

/** What applying the setup did that later resources build on. */
export interface AppliedCdc {
  /** The LSN a slot made by this run starts at ('0/1A2B3C4'); undefined when the slot was there already. */
  slotCreatedAt?: string;
}

/**
 * An LSN ('16/B374D848') as the 64-bit number Debezium's offsets hold it as (its `lsn` key); exact up to
 * 2^53, some 9 PB of WAL.
 */
export function lsnNumber(lsn: string): number {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (!match) throw new Error(`'${lsn}' is not an LSN`);
  return parseInt(match[1], 16) * 2 ** 32 + parseInt(match[2], 16);
}

/** Brings the database to the setup: idempotent, so a run that stopped half-way is simply run again. */
export async function applyCdc(client: Pick<Client, "query">, setup: ReplicationSetup): Promise<AppliedCdc> {
  const facts = await readCdcFacts(client, setup);
  if (facts.walLevel !== "logical") {
    throw new Error(
      `wal_level is '${facts.walLevel}', logical decoding needs 'logical': ALTER SYSTEM SET wal_level = logical, then restart the server`,
    );
  }
  const missing = await missingTables(client, setup.tables);
  if (missing.length > 0) throw new Error(`tables not found: ${missing.join(", ")}`);
  for (const key of facts.tablesNeedingFullIdentity) {
    const table = setup.tables.find((t) => tableKey(t) === key)!;
    await client.query(`ALTER TABLE ${qualified(table.schema, table.name)} REPLICA IDENTITY FULL`);
  }
  for (const { table, columns } of ownTables(setup)) {
    await client.query(`CREATE TABLE IF NOT EXISTS ${qualified(table.schema, table.name)} (${columns})`);
  }
  const list = publishedOf(setup)
    .map((t) => qualified(t.schema, t.name))
    .join(", ");
  const verb = facts.publicationExists
    ? `ALTER PUBLICATION ${ident(setup.publication)} SET TABLE`
    : `CREATE PUBLICATION ${ident(setup.publication)} FOR TABLE`;
  await client.query(`${verb} ${list}`);
  let slotCreatedAt: string | undefined;
  if (setup.slot && !facts.slotExists) {
    const created = await client.query<{ lsn: string }>(
      "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')",
      [setup.slot],
    );
    slotCreatedAt = created.rows[0].lsn;
  }
  if (setup.replicationUser) {
    const role = ident(setup.replicationUser);
    const verbRole = facts.replicationUserExists ? "ALTER ROLE" : "CREATE ROLE";
    // Set on every run, so a changed password reaches the role.
    await client.query(
      `${verbRole} ${role} WITH LOGIN REPLICATION PASSWORD ${literal(scramVerifier(setup.replicationPassword))}`,
    );
    for (const schema of new Set(setup.tables.map((t) => t.schema))) {
      await client.query(`GRANT USAGE ON SCHEMA ${ident(schema)} TO ${role}`);
    }
    await client.query(`GRANT SELECT ON ${list} TO ${role}`);
    for (const { table, privileges } of ownTables(setup)) {
      await client.query(`GRANT ${privileges} ON ${qualified(table.schema, table.name)} TO ${role}`);
    }
  }
  return { slotCreatedAt };
}

/** Drops a replication slot if it exists; refuses while a connector reads it. */
export async function dropReplicationSlot(client: Pick<Client, "query">, slot: string): Promise<void> {
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
export async function dropReplicationRole(client: Pick<Client, "query">, role: string): Promise<void> {
  const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
  if (!exists.rowCount) return;
  await client.query(`DROP OWNED BY ${ident(role)}`);
  await client.query(`DROP ROLE ${ident(role)}`);
}

/** Drops one of the pipeline's own tables if it exists (the heartbeat's row, signals: no one else's data). */
export async function dropOwnTable(client: Pick<Client, "query">, table: PgTable): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${qualified(table.schema, table.name)}`);
}

/** Removes what the setup made: publication, slot, replication user, own tables. Anything already gone is fine. */
export async function dropCdc(
  client: Pick<Client, "query">,
  setup: Pick<ReplicationSetup, "publication" | "slot" | "replicationUser" | "heartbeatTable" | "signalTable">,
): Promise<void> {
  await client.query(`DROP PUBLICATION IF EXISTS ${ident(setup.publication)}`);
  for (const { table } of ownTables(setup)) await dropOwnTable(client, table);
  if (setup.slot) await dropReplicationSlot(client, setup.slot);
  if (setup.replicationUser) await dropReplicationRole(client, setup.replicationUser);
}

/** The ways the recorded (or live) facts differ from the setup, one line each. */
export function cdcDrift(facts: PostgresCdcFacts, setup: ReplicationSetup): string[] {
  const want = publishedOf(setup).map(tableKey).sort();
  const drift: string[] = [];
  if (!facts.publicationExists) drift.push(`publication '${setup.publication}' is missing`);
  else if (JSON.stringify(facts.publishedTables) !== JSON.stringify(want)) {
    drift.push(`publication holds [${facts.publishedTables.join(", ")}], declared [${want.join(", ")}]`);
  }
  if (setup.slot && !facts.slotExists) drift.push(`replication slot '${setup.slot}' is missing`);
  if (facts.tablesNeedingFullIdentity.length > 0) {
    drift.push(`tables without primary key lack REPLICA IDENTITY FULL: ${facts.tablesNeedingFullIdentity.join(", ")}`);
  }
  if (setup.replicationUser && !facts.replicationUserExists) drift.push(`role '${setup.replicationUser}' is missing`);
  return drift;
}

// The PostgresCdc provider against the harness's real PostgreSQL clusters, with hostile identifiers.
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyCdc } from "../../lib/logical-replication";
import { ident, qualified, withClient } from "../../lib/postgres";
import {
  postgresCdcProvider as provider,
  type PostgresCdcInputs,
  type PostgresCdcState,
} from "../../providers/postgres-cdc";
import { query } from "../connectors";
import { harness } from "../harness";

const run = Date.now().toString(36);
// Quotes, brackets, semicolons, comment markers, unicode and a reserved word.
const schema = `Ünï "sch"; -- ${run}`;
const tables = [
  { schema, name: "x]; DROP TABLE y--" },
  { schema, name: "select" },
  { schema, name: `semi;colon 'q' "${run}"` },
];
const inputs: PostgresCdcInputs = {
  ...harness.source,
  password: harness.pgPassword,
  publication: `pub "weird"; DROP ${run}`,
  tables,
  slot: `it_cdc_${run}`,
  replicationUser: `rep "user"; ${run}`,
  replicationPassword: "rep-secret-value",
};
const all = tables.map((t) => `${t.schema}.${t.name}`).sort();

async function checked(news: PostgresCdcInputs): Promise<PostgresCdcInputs> {
  const result = await provider.check({} as PostgresCdcInputs, news);
  expect(result.failures).toEqual([]);
  return result.inputs as PostgresCdcInputs;
}

beforeAll(async () => {
  await query("source", `CREATE SCHEMA ${ident(schema)}`);
  await query("source", `CREATE TABLE IF NOT EXISTS y (id int)`);
  await query("source", `CREATE TABLE ${qualified(schema, tables[0].name)} (id int PRIMARY KEY)`);
  await query("source", `CREATE TABLE ${qualified(schema, tables[1].name)} (id int, note text)`);
  await query("source", `CREATE TABLE ${qualified(schema, tables[2].name)} (id int PRIMARY KEY, v text)`);
});

afterAll(async () => {
  await provider.delete("x", { ...inputs } as PostgresCdcState).catch(() => undefined);
  await query("source", `DROP SCHEMA ${ident(schema)} CASCADE`);
  await query("source", "DROP TABLE IF EXISTS y");
});

describe("PostgresCdc provider", () => {
  let state: PostgresCdcState;

  it("creates the publication, the slot, the replica identity and a working replication user", async () => {
    state = (await provider.create(await checked(inputs))).outs!;
    expect(state.walLevel).toBe("logical");
    expect(state.publishedTables).toEqual(all);
    expect(state.slotExists).toBe(true);
    expect(state.tablesNeedingFullIdentity).toEqual([]);
    expect(state.replicationUserExists).toBe(true);
    const identity = await query<{ relreplident: string }>(
      "source",
      "SELECT relreplident FROM pg_class WHERE oid = $1::regclass",
      [qualified(schema, "select")],
    );
    expect(identity).toEqual([{ relreplident: "f" }]);
    // The hostile names did nothing but name things.
    expect(await query("source", "SELECT 1 FROM pg_tables WHERE tablename = 'y'")).toHaveLength(1);

    const asUser = new Client({
      ...harness.source,
      user: inputs.replicationUser,
      password: inputs.replicationPassword,
    });
    await asUser.connect();
    try {
      const rows = await asUser.query(`SELECT count(*) FROM ${qualified(schema, tables[2].name)}`);
      expect(rows.rows).toEqual([{ count: "0" }]);
      const role = await asUser.query("SELECT rolreplication FROM pg_roles WHERE rolname = current_user");
      expect(role.rows).toEqual([{ rolreplication: true }]);
    } finally {
      await asUser.end();
    }
  });

  it("a second run changes nothing and converges again", async () => {
    expect((await provider.diff("x", state, inputs)).changes).toBe(false);
    const again = (await provider.create(inputs)).outs!;
    expect(again.publishedTables).toEqual(all);
  });

  it("a table dropped from the publication, a dropped slot and a reset identity are drift, repaired by update", async () => {
    await query("source", `ALTER PUBLICATION ${ident(inputs.publication)} DROP TABLE ${qualified(schema, "select")}`);
    await query("source", "SELECT pg_drop_replication_slot($1)", [inputs.slot]);
    await query("source", `ALTER TABLE ${qualified(schema, "select")} REPLICA IDENTITY DEFAULT`);
    const read = (await provider.read("x", state)).props!;
    expect(read.publishedTables).toEqual(all.filter((t) => !t.endsWith(".select")));
    expect(read.slotExists).toBe(false);
    expect(read.tablesNeedingFullIdentity).toEqual([`${schema}.select`]);
    expect((await provider.diff("x", read, inputs)).changes).toBe(true);
    state = (await provider.update("x", read, inputs)).outs!;
    expect(state.publishedTables).toEqual(all);
    expect(state.slotExists).toBe(true);
    expect(state.tablesNeedingFullIdentity).toEqual([]);
    expect((await provider.diff("x", state, inputs)).changes).toBe(false);
  });

  it("refuses a server without wal_level=logical, naming the setting and the fix, before changing anything", async () => {
    const onTarget = {
      ...inputs,
      ...harness.target,
      password: harness.pgPassword,
      tables: [{ schema: "public", name: "t" }],
    };
    await expect(provider.create(onTarget)).rejects.toThrow(
      "wal_level is 'replica', logical decoding needs 'logical': ALTER SYSTEM SET wal_level = logical",
    );
    expect(await query("target", "SELECT 1 FROM pg_publication WHERE pubname = $1", [inputs.publication])).toEqual([]);
  });

  it("names missing tables and bad inputs", async () => {
    await expect(provider.create({ ...inputs, tables: [{ schema: "public", name: "nope" }] })).rejects.toThrow(
      "tables not found: public.nope",
    );
    const result = await provider.check({} as PostgresCdcInputs, { ...inputs, slot: "Bad-Slot", tables: [], port: 0 });
    expect(result.failures?.map((f) => f.property)).toEqual(["port", "tables", "slot"]);
  });

  it("a changed replication password is updated in place and the role logs in with the new one", async () => {
    const rotated = { ...inputs, replicationPassword: "rep-secret-rotated" };
    expect(await provider.diff("x", state, rotated)).toMatchObject({ changes: true, replaces: [] });
    state = (await provider.update("x", state, rotated)).outs!;
    expect(state.replicationPassword).toBe(rotated.replicationPassword);
    const login = (password: string) =>
      withClient({ ...harness.source, user: inputs.replicationUser, password }, async () => "logged in");
    expect(await login(rotated.replicationPassword)).toBe("logged in");
    await expect(login(inputs.replicationPassword)).rejects.toThrow(/password authentication failed/);
  });

  it("sends the replication password only as a SCRAM verifier, never as text", async () => {
    const statements: string[] = [];
    await withClient({ ...harness.source, password: harness.pgPassword }, (client) =>
      applyCdc(
        {
          query: ((sql: string, params?: unknown[]) => {
            statements.push(sql);
            return client.query(sql, params);
          }) as Client["query"],
        },
        state,
      ),
    );
    expect(statements.find((sql) => /PASSWORD/.test(sql))).toMatch(/PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(statements.join("\n")).not.toContain(state.replicationPassword);
    const [{ rolpassword }] = await query<{ rolpassword: string }>(
      "source",
      "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
      [inputs.replicationUser],
    );
    expect(rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
  });

  it("delete drops the publication, the slot and the role; deleting again succeeds", async () => {
    await provider.delete("x", state);
    expect(await query("source", "SELECT 1 FROM pg_publication WHERE pubname = $1", [inputs.publication])).toEqual([]);
    expect(await query("source", "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [inputs.slot])).toEqual([]);
    expect(await query("source", "SELECT 1 FROM pg_roles WHERE rolname = $1", [inputs.replicationUser])).toEqual([]);
    await provider.delete("x", state);
  });
});

// The PostgresSchema provider against the harness's real target PostgreSQL, with hostile identifiers.
import { afterAll, describe, expect, it } from "vitest";
import { ident, qualified } from "../../lib/postgres";
import type { TableSpec } from "../../lib/target-schema";
import {
  postgresSchemaProvider as provider,
  type PostgresSchemaInputs,
  type PostgresSchemaState,
} from "../../providers/postgres-schema";
import { query } from "../connectors";
import { harness } from "../harness";

const run = Date.now().toString(36);
const schema = `tgt "ß"; -- ${run}`;
const table = "order; DROP TABLE y--";
const tables: TableSpec[] = [
  {
    name: table,
    columns: [
      { name: "id", type: "int", nullable: false },
      { name: "select", type: "varchar(40)" },
      { name: "amount", type: "numeric(10, 2)" },
    ],
    primaryKey: ["id"],
    indexes: [{ name: `by "select" ${run}`, columns: ["select"] }],
  },
];
const inputs: PostgresSchemaInputs = {
  ...harness.target,
  password: harness.pgPassword,
  schema,
  tables,
  allowDestructive: false,
  dropTablesOnDelete: true,
};

afterAll(() => query("target", `DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`));

describe("PostgresSchema provider", () => {
  let state: PostgresSchemaState;

  it("creates the schema, the table, its key and index; a second run plans nothing", async () => {
    const checked = await provider.check({} as PostgresSchemaInputs, inputs);
    expect(checked.failures).toEqual([]);
    state = (await provider.create(inputs)).outs!;
    expect(state.live).toEqual([
      {
        name: table,
        columns: [
          { name: "id", type: "integer", nullable: false },
          { name: "select", type: "character varying(40)", nullable: true },
          { name: "amount", type: "numeric(10,2)", nullable: true },
        ],
        primaryKey: ["id"],
        primaryKeyName: expect.any(String) as string,
        indexes: [{ name: `by "select" ${run}`, columns: ["select"], unique: false }],
      },
    ]);
    expect((await provider.diff("x", state, inputs)).changes).toBe(false);
    expect((await provider.create(inputs)).outs?.live).toEqual(state.live);
  });

  it("adds a new column in place, keeping the rows", async () => {
    await query("target", `INSERT INTO ${qualified(schema, table)} (id, "select") VALUES (1, 'a')`);
    const grown = {
      ...inputs,
      tables: [{ ...tables[0], columns: [...tables[0].columns, { name: "note", type: "text" }] }],
    };
    expect((await provider.diff("x", state, grown)).changes).toBe(true);
    state = (await provider.update("x", state, grown)).outs!;
    expect(state.live[0].columns.map((c) => c.name)).toEqual(["id", "select", "amount", "note"]);
    expect(await query("target", `SELECT id FROM ${qualified(schema, table)}`)).toEqual([{ id: 1 }]);
  });

  it("a rebuild token empties the tables when set or changed, and only then", async () => {
    const rows = () => query("target", `SELECT id FROM ${qualified(schema, table)}`);
    const current = { ...inputs, tables: state.tables };
    const rebuild = { ...current, rebuildToken: "restore-1" };
    expect((await provider.diff("x", state, rebuild)).changes).toBe(true);
    state = (await provider.update("x", state, rebuild)).outs!;
    expect(await rows()).toEqual([]);

    await query("target", `INSERT INTO ${qualified(schema, table)} (id) VALUES (2)`);
    expect((await provider.diff("x", state, rebuild)).changes).toBe(false);
    await provider.update("x", state, rebuild);
    // Created with a token (a DR site's first deploy): emptied too, tables kept.
    await provider.create({ ...current, rebuildToken: "failover" });
    expect(await rows()).toEqual([]);
    await query("target", `INSERT INTO ${qualified(schema, table)} (id) VALUES (1)`);
    state = (await provider.update("x", state, current)).outs!;
    expect(await rows()).toEqual([{ id: 1 }]);
  });

  it("refuses a type change and a dropped column with a clear message, changing nothing; applies them when allowed", async () => {
    const narrowed = {
      ...inputs,
      tables: [{ ...tables[0], columns: [{ name: "id", type: "bigint", nullable: false }, tables[0].columns[1]] }],
    };
    await expect(provider.update("x", state, narrowed)).rejects.toThrow(
      /destructive changes refused .*change the type of 'id' from integer to bigint; .*drop column 'amount'; .*drop column 'note'/,
    );
    expect((await provider.read("x", state)).props?.live).toEqual(state.live);
    state = (await provider.update("x", state, { ...narrowed, allowDestructive: true })).outs!;
    expect(state.live[0].columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      "id bigint",
      "select character varying(40)",
    ]);
    state = (await provider.update("x", state, { ...narrowed })).outs!;
  });

  it("a column type changed by hand and a dropped index are drift, repaired by update", async () => {
    const declared = { ...inputs, tables: state.tables };
    await query("target", `ALTER TABLE ${qualified(schema, table)} ALTER COLUMN "select" TYPE text`);
    await query("target", `DROP INDEX ${qualified(schema, `by "select" ${run}`)}`);
    const read = (await provider.read("x", state)).props!;
    expect(read.live[0].indexes).toEqual([]);
    expect((await provider.diff("x", read, declared)).changes).toBe(true);
    // Changing a type back is itself destructive: refused until allowed.
    await expect(provider.update("x", read, declared)).rejects.toThrow("change the type of 'select' from text");
    state = (await provider.update("x", read, { ...declared, allowDestructive: true })).outs!;
    expect(state.live[0].indexes).toHaveLength(1);
    expect((await provider.diff("x", state, { ...declared, allowDestructive: true })).changes).toBe(false);
  });

  it("check names bad tables; delete drops the tables when told to, and succeeds when they are gone", async () => {
    const bad = await provider.check({} as PostgresSchemaInputs, {
      ...inputs,
      tables: [{ name: "t", columns: [{ name: "a", type: "int); DROP TABLE x; --" }], primaryKey: ["b"] }],
    });
    expect(bad.failures).toEqual([
      {
        property: "tables",
        reason:
          "tables[0].columns[0].type: must be a PostgreSQL type such as integer, text or numeric(10,2); " +
          "tables[0].primaryKey: 'b' is not one of its columns",
      },
    ]);
    await provider.delete("x", state);
    expect(await query("target", "SELECT 1 FROM pg_tables WHERE schemaname = $1", [schema])).toEqual([]);
    await provider.delete("x", state);
  });
});

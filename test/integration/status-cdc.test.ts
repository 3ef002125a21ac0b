// status's view of CDC on a PostgreSQL source, on the harness's source cluster: a publication and a slot
// missing, a table left out of the publication, a slot nobody reads.
import { afterAll, describe, expect, it } from "vitest";
import { withClient } from "../../lib/postgres";
import { postgresCdcState } from "../../ops/status";
import { query } from "../connectors";
import { harness } from "../harness";

const schema = `st_${Date.now().toString(36)}`;
const names = { publication: `${schema}_publication`, slot: `${schema}_slot` };
const tables = [
  { schema, name: "a" },
  { schema, name: "b" },
];
const state = () =>
  withClient({ ...harness.source, password: harness.pgPassword }, (client) => postgresCdcState(client, tables, names));

afterAll(async () => {
  await query("source", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", [
    names.slot,
  ]);
  await query("source", `DROP PUBLICATION IF EXISTS ${names.publication}`);
  await query("source", `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

describe("postgresCdcState", () => {
  it("names each thing missing, until capture works", async () => {
    await query("source", `CREATE SCHEMA ${schema}`);
    await query(
      "source",
      `CREATE TABLE ${schema}.a (id int PRIMARY KEY); CREATE TABLE ${schema}.b (id int PRIMARY KEY)`,
    );
    expect((await state()).problems).toEqual([
      `publication ${names.publication} is missing`,
      `replication slot ${names.slot} is missing`,
    ]);

    await query("source", `CREATE PUBLICATION ${names.publication} FOR TABLE ${schema}.a`);
    await query("source", "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [names.slot]);
    const partial = await state();
    expect(partial.problems).toEqual([
      `not published: ${schema}.b`,
      `replication slot ${names.slot} is not being read: the source keeps its WAL`,
    ]);
    expect(partial.facts).toEqual([`publication ${names.publication}: ${schema}.a`, `slot ${names.slot}: inactive`]);

    await query("source", `ALTER PUBLICATION ${names.publication} ADD TABLE ${schema}.b`);
    expect((await state()).problems).toEqual([
      `replication slot ${names.slot} is not being read: the source keeps its WAL`,
    ]);
  });
});

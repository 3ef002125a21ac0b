// Adopting hand-made connectors (connectors.<c>.adoptFrom) with the real CLI on the local stack: a Debezium
// PostgreSQL source and a JDBC sink made by hand over REST as the runbooks make them, streaming; `pulumi up`
// takes over their offsets and deletes them, and no row is snapshotted again: a trigger on the target logs
// every write, and after the adoption it logs only rows changed since. A hand-made connector whose slot the
// stack does not name is refused at preview, naming the stack key, with nothing changed. The committed stack
// file is put back at the end.
import axios from "axios";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, query } from "../connectors";
import { harness, PROJECT_DIR } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const rest = axios.create({ baseURL: harness.connectUrl, headers: { "Content-Type": "application/json" } });
const stackFile = path.join(PROJECT_DIR, "Pulumi.local.yaml");
const committed = readFileSync(stackFile, "utf8");

const connectorState = async (name: string) =>
  (await rest.get<{ connector: { state: string } }>(`/connectors/${name}/status`, { validateStatus: () => true })).data
    .connector?.state;

const PREFIX = `adopt${Date.now() % 100000}`;
/** The runbooks' connector names. */
const HAND_SOURCE = "postgres-source-connector";
const HAND_SINK = "postgres-sink-connector";
const SLOT = `${PREFIX}_handmade`;
const PUBLICATION = `${PREFIX}_handmade_pub`;
/** The target's log of writes to customers, filled by a trigger. */
const WRITES = `inventory.${PREFIX}_writes`;
/** Rows of this file's own: snapshotted by the hand-made source, streamed by it, streamed after the adoption. */
const BASE = 960_000 + (process.pid % 1000) * 30;
const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => BASE + from + i);
const SNAPSHOTTED = ids(0, 10);
const STREAMED = ids(10, 10);
const AFTER = ids(20, 10);

const insert = (rows: number[]) =>
  query("source", "INSERT INTO inventory.customers SELECT id, 'adopt', NULL FROM unnest($1::int[]) AS id", [rows]);
const arrived = (rows: number[]) =>
  eventually(
    async () =>
      (
        await query<{ n: string }>("target", "SELECT count(*) AS n FROM inventory.customers WHERE id = ANY($1)", [rows])
      )[0].n,
    (n) => Number(n) === rows.length,
    120_000,
  );

/** The runbooks' connectors, with today's Debezium keys: made by hand, as a team adopting the project has them. */
async function makeHandMadeConnectors(): Promise<void> {
  const database = {
    "database.hostname": harness.source.host,
    "database.port": String(harness.source.port),
    "database.user": harness.source.user,
    "database.password": harness.pgPassword,
    "database.dbname": harness.source.database,
  };
  await rest.post("/connectors", {
    name: HAND_SOURCE,
    config: {
      "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
      ...database,
      "topic.prefix": PREFIX,
      "table.include.list": "inventory.customers,inventory.orders",
      "plugin.name": "pgoutput",
      "slot.name": SLOT,
      "publication.name": PUBLICATION,
      "publication.autocreate.mode": "filtered",
    },
  });
  await rest.post("/connectors", {
    name: HAND_SINK,
    config: {
      "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
      "connection.url": `jdbc:postgresql://${harness.target.host}:${harness.target.port}/${harness.target.database}`,
      "connection.username": harness.target.user,
      "connection.password": harness.pgPassword,
      topics: `${PREFIX}.inventory.customers,${PREFIX}.inventory.orders`,
      "insert.mode": "upsert",
      "primary.key.mode": "record_key",
      "delete.enabled": "true",
      "collection.name.format": "inventory.${source.table}",
    },
  });
}

beforeAll(async () => {
  // A run that failed half-way may have left the runbooks' connectors behind.
  for (const name of [HAND_SOURCE, HAND_SINK]) await rest.delete(`/connectors/${name}`, { validateStatus: () => true });
  await insert(SNAPSHOTTED);
  await makeHandMadeConnectors();
  await arrived(SNAPSHOTTED);
  await insert(STREAMED);
  await arrived(STREAMED);
  await query("target", `CREATE TABLE ${WRITES} (id integer NOT NULL)`);
  await query(
    "target",
    `CREATE FUNCTION ${WRITES}_log() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO ${WRITES} VALUES (NEW.id); RETURN NEW; END $$`,
  );
  await query(
    "target",
    `CREATE TRIGGER ${PREFIX}_writes AFTER INSERT OR UPDATE ON inventory.customers
       FOR EACH ROW EXECUTE FUNCTION ${WRITES}_log()`,
  );
  backend.ok("stack", "select", "local", "--create");
  backend.setLocal("pipeline.topicPrefix", PREFIX);
  backend.setLocal("connectors.source.adoptFrom", HAND_SOURCE);
  backend.setLocal("connectors.sink.adoptFrom", HAND_SINK);
}, 300_000);

afterAll(async () => {
  writeFileSync(stackFile, committed);
  backend.dispose();
  for (const name of [HAND_SOURCE, HAND_SINK]) await rest.delete(`/connectors/${name}`, { validateStatus: () => true });
  await query("target", `DROP TRIGGER IF EXISTS ${PREFIX}_writes ON inventory.customers`);
  await query("target", `DROP TABLE IF EXISTS ${WRITES}`);
  await query("target", `DROP FUNCTION IF EXISTS ${WRITES}_log()`);
  const all = [...SNAPSHOTTED, ...STREAMED, ...AFTER];
  for (const side of ["source", "target"] as const) {
    await query(side, "DELETE FROM inventory.customers WHERE id = ANY($1)", [all]);
  }
  await query("source", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", [
    SLOT,
  ]);
  await query("source", `DROP PUBLICATION IF EXISTS ${PUBLICATION}`);
});

describe("adopting the runbooks' hand-made connectors", () => {
  it("refuses at preview a hand-made source whose slot the stack does not name, changing nothing", async () => {
    backend.setLocal("pipeline.publicationName", PUBLICATION);
    const preview = backend.pulumi("preview", "--stack", "local");
    expect(preview.status).not.toBe(0);
    expect(preview.stdout + preview.stderr).toMatch(
      new RegExp(`'${HAND_SOURCE}' has slot.name '${SLOT}'.*set pipeline.slotName`),
    );
    expect(await connectorState(HAND_SOURCE)).toBe("RUNNING");
  });

  it("takes over their offsets and deletes them: no row is written again, new changes stream", async () => {
    backend.setLocal("pipeline.slotName", SLOT);
    const up = backend.upLocal();
    expect(up.status, up.stdout + up.stderr).toBe(0);
    expect(await connectorState(`${PREFIX}-source`)).toBe("RUNNING");
    expect(await connectorState(`${PREFIX}-sink`)).toBe("RUNNING");
    expect(await connectorState(HAND_SOURCE)).toBeUndefined();
    expect(await connectorState(HAND_SINK)).toBeUndefined();
    await insert(AFTER);
    await arrived(AFTER);
    const written = (await query<{ id: number }>("target", `SELECT DISTINCT id FROM ${WRITES}`)).map((r) => r.id);
    expect(written).toEqual(expect.arrayContaining(AFTER));
    // A snapshot would write every row again; a few streamed just before the hand-over may be delivered twice.
    expect(written.filter((id) => !AFTER.includes(id) && !STREAMED.includes(id))).toEqual([]);
    const slots = await query<{ slot_name: string; active: boolean }>(
      "source",
      "SELECT slot_name, active FROM pg_replication_slots WHERE starts_with(slot_name, $1)",
      [PREFIX],
    );
    expect(slots).toEqual([{ slot_name: SLOT, active: true }]);
  });

  it("leaves nothing to drift, and another `up` changes nothing", async () => {
    const clean = backend.driftLocal();
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    const again = backend.upLocal();
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Resources:\s+\d+ unchanged/);
    expect(again.stdout).not.toMatch(/\d+ (updated|created|replaced|deleted)/);
  });
});

// `cdc-pipeline resync` and `repair` on the deployed local stack, as a user runs them: the real Pulumi CLI
// deploys it, the commands signal its source connector through the signalling table PostgresCdc made, wait
// for the connector's notifications on Kafka, and reconcile. Streaming goes on throughout: rows written
// meanwhile arrive too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, query } from "../connectors";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const ops = (...args: string[]) => backend.script("harness-env.sh", "npm", "run", "-s", "ops", "--", ...args);
const base = 700_000 + Math.floor(Math.random() * 100_000);
const ids = [base, base + 1, base + 2, base + 3];
const SIGNALS = "inventory.local_cdc_signal";
const signals = async () => Number((await query<{ n: string }>("source", `SELECT count(*) AS n FROM ${SIGNALS}`))[0].n);
const targetRow = async (id: number) =>
  (await query<{ name: string }>("target", "SELECT name FROM inventory.customers WHERE id = $1", [id]))[0]?.name;

beforeAll(async () => {
  backend.ok("stack", "select", "local", "--create");
  backend.ok("up", "--stack", "local", "--yes", "--skip-preview");
  for (const id of ids) await query("source", "INSERT INTO inventory.customers VALUES ($1, $2, NULL)", [id, `r${id}`]);
  await eventually(
    async () => Promise.all(ids.map(targetRow)),
    (names) => names.every(Boolean),
  );
  // Every row of the shared source has reached the target: the differences below are the ones made here.
  const settled = ops("reconcile", "--stack", "local", "--settle", "120");
  expect(settled.status, settled.stdout + settled.stderr).toBe(0);
});
afterAll(async () => {
  await query("source", "DELETE FROM inventory.customers WHERE id = ANY($1)", [ids]);
  await query("target", "DELETE FROM inventory.customers WHERE id >= $1 AND id < $2", [base, base + 100]);
  backend.dispose();
});

describe("cdc-pipeline resync", () => {
  it("reads a table again from the source while streaming goes on, then reconciles it (exit 0)", async () => {
    await query("target", "DELETE FROM inventory.customers WHERE id = ANY($1)", [ids.slice(0, 2)]);
    const run = ops("resync", "--stack", "local", "--table", "inventory.customers", "--settle", "60");
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^resync {3}inventory\.customers: \d+ rows read \(SUCCEEDED, signal cdc-pipeline-[0-9a-f-]+\)$/m,
    );
    expect(run.stdout).toContain("Source and target match.");
    expect(await targetRow(ids[0])).toBe(`r${ids[0]}`);
  });

  it("with --where reads only the rows it selects: what it leaves out still differs (exit 1), as JSON", async () => {
    await query("target", "DELETE FROM inventory.customers WHERE id = ANY($1)", [ids.slice(0, 2)]);
    const run = ops(
      "resync",
      "--stack",
      "local",
      "--table",
      "inventory.customers",
      "--where",
      `id = ${ids[0]}`,
      "--settle",
      "5",
      "--json",
    );
    expect(run.status, run.stdout + run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as {
      scan: { rows: number };
      reconciled: { tables: { missing: string[] }[] };
    };
    expect(report.scan.rows).toBe(1);
    expect(report.reconciled.tables[0].missing).toEqual([String(ids[1])]);
  });

  it("refuses a table the stack does not declare and a condition that is not one, and signals nothing (exit 2)", async () => {
    const before = await signals();
    const unknown = ops("resync", "--stack", "local", "--table", "inventory.nope");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(
      "cdc-pipeline: --table: 'inventory.nope' is not one of the stack's tables (inventory.customers, inventory.orders)",
    );
    const where = (condition: string) =>
      ops("resync", "--stack", "local", "--table", "inventory.customers", "--where", condition);
    const invalid = where("nme = 'x'");
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toMatch(
      /--where is not a valid condition on inventory\.customers: .*column "nme" does not exist/,
    );
    const stacked = where("id > 1; DELETE FROM inventory.customers");
    expect(stacked.status).toBe(2);
    expect(stacked.stderr).toContain("--where holds ';': give one condition, not statements");
    expect(await signals()).toBe(before);
  });
});

describe("cdc-pipeline repair", () => {
  const extra = base + 50;
  async function breakTarget() {
    await query("target", "DELETE FROM inventory.customers WHERE id = $1", [ids[1]]); // missing
    await query("target", "UPDATE inventory.customers SET name = 'by hand' WHERE id = $1", [ids[2]]); // changed
    await query("target", "INSERT INTO inventory.customers VALUES ($1, 'stray', NULL)", [extra]); // extra
  }

  it("--dry-run names what it would do and changes nothing (exit 1); over --max-keys it refuses (exit 2)", async () => {
    await breakTarget();
    const before = await signals();
    const dry = ops("repair", "--stack", "local", "--dry-run", "--settle", "5");
    expect(dry.status, dry.stdout + dry.stderr).toBe(1);
    expect(dry.stdout).toContain(
      `repair   inventory.customers: would read 2 key(s) again from the source, would delete 1 from the target (${extra})`,
    );
    const over = ops("repair", "--stack", "local", "--max-keys", "2", "--settle", "5");
    expect(over.status).toBe(2);
    expect(over.stderr).toContain("cdc-pipeline: 3 keys differ, more than --max-keys 2: nothing was changed.");
    expect(await targetRow(extra)).toBe("stray");
    expect(await targetRow(ids[2])).toBe("by hand");
    expect(await signals()).toBe(before);
  });

  it("reads missing and changed keys again and deletes extra ones, while streaming goes on: then it matches (exit 0)", async () => {
    const during = base + 60;
    await query("source", "INSERT INTO inventory.customers VALUES ($1, 'during', NULL)", [during]);
    const run = ops("repair", "--stack", "local", "--table", "inventory.customers", "--settle", "60");
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(
      `repair   inventory.customers: did read 2 key(s) again from the source, did delete 1 from the target (${extra})`,
    );
    expect(run.stdout).toContain("Source and target match.");
    expect(await targetRow(ids[1])).toBe(`r${ids[1]}`);
    expect(await targetRow(ids[2])).toBe(`r${ids[2]}`);
    expect(await targetRow(extra)).toBeUndefined();
    expect(await targetRow(during)).toBe("during");
    await query("source", "DELETE FROM inventory.customers WHERE id = $1", [during]);
  });
});

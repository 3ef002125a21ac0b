// source.connectorUser on the local stack, with the real CLI: PostgresCdc creates the least-privilege role,
// the source connector reads the slot as that role (not as the admin user), rows flow, and destroy drops
// the role. The stack's config file is a copy (--config-file), so the project's own stays as it is.
import { randomBytes } from "node:crypto";
import { copyFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, query } from "../connectors";
import { harness, PROJECT_DIR } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const configFile = path.join(backend.dir, "Pulumi.local.yaml");
const role = "cdc_local_connector";
const connectorPassword = randomBytes(12).toString("hex");
const cli = (...args: string[]) => backend.ok(...args, "--stack", "local", "--config-file", configFile);
const roles = () => query("source", "SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = $1", [role]);

beforeAll(() => {
  copyFileSync(path.join(PROJECT_DIR, "Pulumi.local.yaml"), configFile);
  backend.ok("stack", "select", "local", "--create");
  cli("config", "set", "--path", "source.connectorUser", role);
  cli("config", "set", "--secret", "connectorPassword", connectorPassword);
});
// Destroyed again in case a test stopped half-way (a no-op otherwise): later tests deploy the stack afresh.
afterAll(() => backend.dispose(["local"]));

describe("a least-privilege connector login (source.connectorUser)", () => {
  it("is created by up, with REPLICATION and without superuser", async () => {
    cli("up", "--yes", "--skip-preview");
    expect(await roles()).toEqual([{ rolreplication: true, rolsuper: false }]);
  });

  it("is the role the source connector reads the slot as, and rows flow", async () => {
    const reader = () =>
      query<{ usename: string }>(
        "source",
        `SELECT a.usename FROM pg_replication_slots s JOIN pg_stat_activity a ON a.pid = s.active_pid
         WHERE s.slot_name = 'local_slot'`,
      );
    expect(await eventually(reader, (rows) => rows.length === 1)).toEqual([{ usename: role }]);
    const id = 700_000 + Math.floor(Math.random() * 100_000);
    await query("source", "INSERT INTO inventory.customers VALUES ($1, 'Least', NULL)", [id]);
    const arrived = () => query("target", "SELECT name FROM inventory.customers WHERE id = $1", [id]).catch(() => []);
    expect(await eventually(arrived, (rows) => rows.length === 1)).toEqual([{ name: "Least" }]);
    await query("source", "DELETE FROM inventory.customers WHERE id = $1", [id]);
  });

  it("keeps its password encrypted in the state and out of every output", () => {
    expect(cli("preview", "--expect-no-changes")).toBeDefined();
    expect(backend.files()).not.toContain(connectorPassword);
    expect(backend.transcript.join("\n")).not.toContain(connectorPassword);
    expect(backend.transcript.join("\n")).not.toContain(harness.pgPassword);
  });

  it("is dropped by destroy", async () => {
    cli("destroy", "--yes");
    expect(await roles()).toEqual([]);
  });
});

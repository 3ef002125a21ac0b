// The DR drill on the harness, with the real CLI through the Automation API: the local stack is the
// primary site, local-dr the DR site (two other databases of the harness's clusters). The primary is backed
// up and the stand-in for S3 replication copies the backup to the replica bucket; a row is written after it.
// Fails over from the replica (the late row is the RPO, not a loss), checks that data flows at the DR site,
// fails back through a fresh backup of the DR site, and prints the measured RTO and RPO of both switches.
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withClient } from "../../lib/postgres";
import type { BackupManifest } from "../../lib/backup-objects";
import { backUpAndRestore, describeSwitch, restoreFromReplica, switchSite } from "../../ops/drill";
import { sourceRowCounts, targetRowCounts } from "../../ops/row-counts";
import { openStack, sourceConnection, targetConnection, type StackSite } from "../../ops/stacks";
import { eventually } from "../connectors";
import { backUpToReplica } from "../fixtures/backups";
import { harness, PROJECT_DIR } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const project = { workDir: PROJECT_DIR, envVars: backend.env() };
const transcript: string[] = [];
const log = (line: string) => transcript.push(line);

// The drill records each rebuild in the stacks' config files: put them back afterwards.
const configFiles = ["Pulumi.local.yaml", "Pulumi.local-dr.yaml"].map((f) => path.join(PROJECT_DIR, f));
const saved = configFiles.map((f) => readFileSync(f, "utf8"));
afterAll(() => {
  backend.dispose(["local-dr", "local"]);
  configFiles.forEach((f, i) => writeFileSync(f, saved[i]));
});

const run = async (
  site: StackSite,
  side: "source" | "target",
  sql: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> =>
  withClient(
    side === "source" ? sourceConnection(site) : targetConnection(site),
    async (c) => (await c.query<Record<string, unknown>>(sql, params)).rows,
  );

const customer = (site: StackSite, id: number) =>
  run(site, "target", "SELECT name FROM inventory.customers WHERE id = $1", [id]).catch(() => []);

describe("DR drill on the harness", () => {
  let primary: StackSite;
  let dr: StackSite;
  let backup: BackupManifest;
  const base = 300_000 + Math.floor(Math.random() * 100_000);

  beforeAll(async () => {
    // openStack opens existing stacks only.
    backend.ok("stack", "init", "local-dr");
    backend.ok("stack", "init", "local");
    primary = await openStack(project, "local");
    dr = await openStack(project, "local-dr");
    await primary.stack.up();
    // Rows the primary holds when disaster strikes: a customer with two orders, and one to be deleted at DR.
    await run(primary, "source", "INSERT INTO inventory.customers VALUES ($1, 'Ada', NULL), ($2, 'Bob', 'b@x')", [
      base,
      base + 1,
    ]);
    await run(
      primary,
      "source",
      "INSERT INTO inventory.orders VALUES ($1, $2, 12.50, '2026-11-24 10:00:00.123456+01'), ($3, $2, 0.01, now())",
      [base, base, base + 1],
    );
    await eventually(
      () => customer(primary, base + 1),
      (rows) => rows.length === 1,
    );
    backup = await backUpToReplica(primary);
    // Written after the last backup: the disaster loses it, and the drill counts it as the RPO.
    await run(primary, "source", "INSERT INTO inventory.customers VALUES ($1, 'Late', NULL)", [base + 9]);
  });

  it("fails over from the replica bucket: the DR stack rebuilds its target from the restored backup", async () => {
    const report = await switchSite(primary, dr, { restore: restoreFromReplica, log });
    console.log(`DR drill failover: ${describeSwitch(report)}`);
    expect(report.restored.key).toBe(backup.key);
    expect(report.rowsLost).toBe(0);
    expect(report.arrived).toEqual(report.expected);
    expect(report.expected).toEqual({
      "inventory.customers": backup.source?.tables["inventory.customers"].rows,
      "inventory.orders": backup.source?.tables["inventory.orders"].rows,
    });
    expect(report.expected["inventory.orders"]).toBeGreaterThanOrEqual(2);
    // The row written after the backup is the RPO, honestly reported, and is not at the DR site.
    expect(report.rpo.rows).toBe(1);
    expect(report.rpo.seconds).toBeGreaterThan(0);
    expect(await customer(dr, base + 9)).toEqual([]);
    expect(report.rtoSeconds).toBeGreaterThan(0);

    // The DR stack read the primary's replica bucket through its StackReference.
    const outputs = await dr.stack.outputs();
    expect(outputs.restoreFromBucket.value).toBe("cdc-local-backups-replica");
    expect(outputs.sourceConnectorState.value).toBe("running");
    expect(outputs.sinkConnectorState.value).toBe("running");

    // The DR site now takes writes: an insert and a delete arrive in its target.
    await run(dr, "source", "INSERT INTO inventory.customers VALUES ($1, 'Dora', 'd@x')", [base + 2]);
    await run(dr, "source", "DELETE FROM inventory.customers WHERE id = $1", [base + 1]);
    expect(
      await eventually(
        () => customer(dr, base + 2),
        (rows) => rows.length === 1,
      ),
    ).toEqual([{ name: "Dora" }]);
    await eventually(
      () => customer(dr, base + 1),
      (rows) => rows.length === 0,
    );
  });

  it("fails back through a fresh backup of the DR site, its delete included, and streams again", async () => {
    const report = await switchSite(dr, primary, { restore: backUpAndRestore, log });
    expect(report.restored.key).toMatch(/^database\/.*\/local-dr-.*\.dump$/);
    expect(report.rpo.rows).toBe(0);
    console.log(`DR drill failback: ${describeSwitch(report)}`);
    expect(report.rowsLost).toBe(0);
    // Exactly the DR source's rows: the row deleted at DR is gone from the primary's target too.
    expect(await targetRowCounts(primary)).toEqual(await sourceRowCounts(dr));
    expect(await customer(primary, base + 2)).toEqual([{ name: "Dora" }]);
    expect(await customer(primary, base + 1)).toEqual([]);
    // The primary's late row was lost with the disaster: the failback restored the DR site's rows.
    expect(await customer(primary, base + 9)).toEqual([]);
    const [order] = await run(
      primary,
      "target",
      "SELECT amount::text, to_char(ordered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at FROM inventory.orders WHERE id = $1",
      [base],
    );
    expect(order).toEqual({ amount: "12.50", at: "2026-11-24 09:00:00.123456" });

    await run(primary, "source", "INSERT INTO inventory.customers VALUES ($1, 'Eve', NULL)", [base + 3]);
    expect(
      await eventually(
        () => customer(primary, base + 3),
        (rows) => rows.length === 1,
      ),
    ).toEqual([{ name: "Eve" }]);
    // The primary's stack now matches what runs.
    const preview = await primary.stack.preview({ refresh: true, expectNoChanges: true });
    expect(preview.changeSummary.update ?? 0).toBe(0);
  });

  it("printed what it did, never a password", () => {
    expect(transcript.join("\n")).toMatch(/pulumi up --refresh --stack local-dr/);
    expect(transcript.join("\n")).not.toContain(harness.pgPassword);
  });
});

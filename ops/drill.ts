// A failover drill with the Automation API: restore the primary's newest backup at the DR site, `pulumi up`
// the DR stack, wait until its target holds every row of the restored backup, and measure the time that took
// (the RTO), the rows and seconds written after that backup (the RPO) and the rows lost beyond it; then fail
// back the same way in the other direction.
import { PROJECT } from "../config";
import type { BackupManifest } from "../lib/backup-objects";
import { runBackups, stackBackupJob } from "./backup";
import { chooseDatabaseBackup, restoreBackup, restoreServer } from "./restore";
import { sourceRowCounts, targetRowCounts, type RowCounts } from "./row-counts";
import { backupSource, stackBuckets, type BucketLocation, type StackSite } from "./stacks";

/** Puts a backup of `from`'s source database in place as `to`'s source database (without CDC); returns its manifest. */
export type RestoreSource = (from: StackSite, to: StackSite) => Promise<BackupManifest>;

/** Restores a backup from one of `to`'s buckets (the newest, or the one named) as `to`'s source database. */
async function restoreAt(to: StackSite, at: BucketLocation, objectKey?: string) {
  const source = backupSource(to, at);
  const manifest = await chooseDatabaseBackup(source, objectKey);
  await restoreBackup(restoreServer(to), source, manifest, to.settings.source.database, { replace: true });
  return manifest;
}

/**
 * Failover: the primary is gone, so nothing of it is backed up now. The DR site restores the newest backup
 * already in the replica of the primary's bucket, which its StackReference names (read from the state backend).
 */
export const restoreFromReplica: RestoreSource = async (from, to) => {
  const { restoreFrom } = await stackBuckets(to);
  if (!restoreFrom) {
    throw new Error(
      `stack ${to.stack.name} has no bucket to restore from: set failover.primaryStack to a stack (${from.stack.name}) that exports replicaBucket`,
    );
  }
  return restoreAt(to, restoreFrom);
};

/** Failback: the DR site is alive; it is backed up now, and that backup is restored at the primary. */
export const backUpAndRestore: RestoreSource = async (from, to) => {
  const { backup } = await stackBuckets(from);
  if (!backup)
    throw new Error(`stack ${from.stack.name} has no backup bucket to fail back through: set backups.bucket`);
  const [manifest] = await runBackups(stackBackupJob(from, backup), ["database"]);
  return restoreAt(to, backup, manifest.key);
};

export interface SwitchOptions {
  /** Restores the source at the site being switched to. */
  readonly restore: RestoreSource;
  /** Progress lines: phases and their times; never a secret. */
  readonly log?: (line: string) => void;
  /** The Pulumi CLI's output during `up` (the CLI masks secrets). */
  readonly onOutput?: (text: string) => void;
  /** How long to wait for the target to catch up after `up`. Default: 10 minutes. */
  readonly catchUpTimeoutMs?: number;
}

export interface SwitchReport {
  readonly from: string;
  readonly to: string;
  /** The backup restored at the new site. */
  readonly restored: { readonly key: string; readonly takenAt: string; readonly position: string };
  /** Rows per table of the restored backup (its manifest): what the new site's target must hold. */
  readonly expected: RowCounts;
  /**
   * The recovery point: rows the old site's source held beyond the backup when the switch began (net, per
   * table), and the seconds from the backup to then. Written after the backup, so not restored: not a loss.
   */
  readonly rpo: { readonly rows: number; readonly seconds: number };
  /** Rows per table in the new site's target when the switch ended. */
  readonly arrived: RowCounts;
  /** Rows of the restored backup missing from `arrived` (after the catch-up timeout, if it ran out): a loss beyond the RPO. */
  readonly rowsLost: number;
  /** Seconds per phase: restore, up (the CLI), catchUp (the snapshot reaching the target). */
  readonly phases: { readonly restore: number; readonly up: number; readonly catchUp: number };
  /** Seconds from the start of the restore to the last expected row in the target. */
  readonly rtoSeconds: number;
}

const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const missing = (expected: RowCounts, arrived: RowCounts) =>
  Object.entries(expected).reduce((sum, [table, n]) => sum + Math.max(0, n - (arrived[table] ?? 0)), 0);

/**
 * Switches the pipeline from one site to the other: restores a backup of `from`'s source as `to`'s, sets `to`'s
 * `pipeline.rebuild` to a new value (recorded in its stack config: the target is emptied and the source
 * connector's offsets reset, so a snapshot rebuilds the target), runs `pulumi up --refresh` on `to` (the
 * refresh sees the restored source without CDC), then waits for the rows.
 */
export async function switchSite(from: StackSite, to: StackSite, options: SwitchOptions): Promise<SwitchReport> {
  const log = options.log ?? (() => undefined);
  // What the old site held when disaster struck: in a drill it can still be counted, to measure the RPO.
  const held = await sourceRowCounts(from);
  const startedAt = Date.now();
  const start = performance.now();
  log(`restoring ${from.stack.name}'s source at ${to.stack.name}`);
  const manifest = await options.restore(from, to);
  const restore = seconds(start);
  const expected: RowCounts = Object.fromEntries(
    Object.entries(manifest.source?.tables ?? {}).map(([table, digest]) => [table, digest.rows]),
  );
  log(`restored ${manifest.key} (taken ${manifest.takenAt}, position ${manifest.source?.position})`);

  const upStart = performance.now();
  const token = `${from.stack.name}@${new Date().toISOString()}`;
  await to.stack.setConfig(`${PROJECT}:pipeline.rebuild`, { value: token }, true);
  log(`pulumi up --refresh --stack ${to.stack.name} (pipeline.rebuild=${token})`);
  await to.stack.up({ refresh: true, onOutput: options.onOutput });
  const up = seconds(upStart);

  const catchUpStart = performance.now();
  const deadline = catchUpStart + (options.catchUpTimeoutMs ?? 600_000);
  let arrived = await targetRowCounts(to);
  while (missing(expected, arrived) > 0 && performance.now() < deadline) {
    await sleep(500);
    arrived = await targetRowCounts(to);
  }
  const report = {
    from: from.stack.name,
    to: to.stack.name,
    restored: { key: manifest.key, takenAt: manifest.takenAt, position: manifest.source?.position ?? "" },
    expected,
    rpo: {
      rows: missing(held, expected),
      seconds: Math.max(0, Math.round((startedAt - Date.parse(manifest.takenAt)) / 100) / 10),
    },
    arrived,
    rowsLost: missing(expected, arrived),
    phases: { restore, up, catchUp: seconds(catchUpStart) },
    rtoSeconds: seconds(start),
  };
  log(describeSwitch(report));
  return report;
}

export function describeSwitch(r: SwitchReport): string {
  return (
    `${r.from} -> ${r.to}: RTO ${r.rtoSeconds} s (restore ${r.phases.restore} s, pulumi up ${r.phases.up} s, ` +
    `catch-up ${r.phases.catchUp} s), RPO ${r.rpo.rows} rows / ${r.rpo.seconds} s before the switch (${r.restored.key}), ` +
    `rows lost ${r.rowsLost} of ${Object.values(r.expected).reduce((a, b) => a + b, 0)}`
  );
}

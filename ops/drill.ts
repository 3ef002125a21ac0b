// A failover drill with the Automation API: restore the primary's newest backup at the DR site, `pulumi up`
// the DR stack, wait until its target holds every row of the restored backup, and measure the time that took
// (the RTO), the rows and seconds written after that backup (the RPO) and the rows lost beyond it; then fence
// the old primary and fail back the same way in the other direction. Against real sites the primary is cut
// off first (a command of the user's), so the failover proves that nothing at the DR site needs it.
import { spawnSync } from "node:child_process";
import { PROJECT } from "../config";
import type { BackupManifest } from "../lib/backup-objects";
import { connectHttp } from "../lib/connect-rest";
import { getStatus } from "../lib/connector-api";
import { pipelineNames } from "../lib/pipeline-names";
import { withClient } from "../lib/postgres";
import { redact } from "../lib/redact";
import { withSqlServer } from "../lib/sqlserver";
import { runBackups, stackBackupJob } from "./backup";
import { describeFence, fenceSite, type FenceReport } from "./fence";
import { withPostgresSide, type ReconcileReport } from "../lib/reconcile";
import { reconcileSite, stackTables } from "./reconcile";
import {
  chooseDatabaseBackup,
  compareWithManifest,
  restoreBackup,
  restoreServer,
  type TableVerification,
} from "./restore";
import { sourceRowCounts, targetRowCounts, type RowCounts } from "./row-counts";
import {
  backupSource,
  sourceConnection,
  stackAddresses,
  stackBuckets,
  targetConnection,
  type BucketLocation,
  type StackSite,
} from "./stacks";

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
  /**
   * What the old site's source held when disaster struck, and when (ms since the epoch), counted by the caller
   * while it could be (just before cutting the primary off). Default: counted at the start of the switch.
   */
  readonly held?: { readonly rows: RowCounts; readonly at: number };
}

export interface SwitchReport {
  readonly from: string;
  readonly to: string;
  /** The backup restored at the new site. */
  readonly restored: { readonly key: string; readonly takenAt: string; readonly position: string };
  /** Rows per table of the restored backup (its manifest): what the new site's target must hold. */
  readonly expected: RowCounts;
  /**
   * The recovery point: rows the old site's source held beyond the backup when disaster struck (the switch
   * began, or the primary was cut off; net, per table), and the seconds from the backup to then. Written after
   * the backup, so not restored: not a loss.
   */
  readonly rpo: { readonly rows: number; readonly seconds: number };
  /** Rows per table in the new site's target when the switch ended. */
  readonly arrived: RowCounts;
  /** Rows of the restored backup missing from `arrived` (after the catch-up timeout, if it ran out): a loss beyond the RPO. */
  readonly rowsLost: number;
  /** The new site's target, table by table, against the digests the restored backup's manifest recorded. */
  readonly backupCheck: TableVerification[];
  /** Seconds per phase: restore, up (the CLI), catchUp (the snapshot reaching the target). */
  readonly phases: { readonly restore: number; readonly up: number; readonly catchUp: number };
  /** Seconds from the start of the restore to the last expected row in the target. */
  readonly rtoSeconds: number;
}

const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The CLI's diagnostics in an Automation API error (each resource that failed and why), else its last lines. */
function diagnostics(message: string): string {
  const lines = message.split("\n");
  const at = lines.findIndex((l) => /^\s*Diagnostics:/.test(l));
  const picked = at >= 0 ? lines.slice(at + 1) : lines.slice(-20);
  return picked
    .filter((l) => l.trim() !== "" && !/^\s*(Resources|Duration):/.test(l))
    .slice(0, 30)
    .join("\n");
}

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
  const held = options.held ?? { rows: await sourceRowCounts(from), at: Date.now() };
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
  await to.stack.up({ refresh: true, onOutput: options.onOutput }).catch((err: Error) => {
    throw new Error(
      `pulumi up --stack ${to.stack.name} failed:\n${redact(diagnostics(err.message), [to.sourcePassword, to.targetPassword])}`,
    );
  });
  const up = seconds(upStart);

  const catchUpStart = performance.now();
  const deadline = catchUpStart + (options.catchUpTimeoutMs ?? 600_000);
  let arrived = await targetRowCounts(to);
  while (missing(expected, arrived) > 0 && performance.now() < deadline) {
    await sleep(500);
    arrived = await targetRowCounts(to);
  }
  const backupCheck = await withPostgresSide(targetConnection(to), (side) =>
    compareWithManifest(side, stackTables(to), manifest, "target"),
  );
  const report = {
    from: from.stack.name,
    to: to.stack.name,
    restored: { key: manifest.key, takenAt: manifest.takenAt, position: manifest.source?.position ?? "" },
    expected,
    rpo: {
      rows: missing(held.rows, expected),
      seconds: Math.max(0, Math.round((held.at - Date.parse(manifest.takenAt)) / 100) / 10),
    },
    arrived,
    rowsLost: missing(expected, arrived),
    backupCheck,
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
    `rows lost ${r.rowsLost} of ${Object.values(r.expected).reduce((a, b) => a + b, 0)}, ` +
    `target ${r.backupCheck.every((t) => t.ok) ? "matches" : "DIFFERS from"} the backup's manifest`
  );
}

/**
 * What a drill checks before it changes anything. The DR stack must not reach the primary site: none of its
 * addresses, nor the replica its StackReference names, may be one of the primary's databases, Connect, Kafka
 * or Docker host, and its buckets not in the primary's AWS region. And the DR site must not already serve
 * writes (its source connector running: a failover is under way or done), unless `force`.
 */
export async function checkDrill(primary: StackSite, dr: StackSite, options: { force?: boolean } = {}): Promise<void> {
  const primarySite = stackAddresses(primary.settings).filter((a) => a.kind === "site");
  const { restoreFrom } = await stackBuckets(dr);
  const reached = [
    ...stackAddresses(dr.settings),
    ...(restoreFrom?.endpoint
      ? [
          {
            setting: "the replica its StackReference names",
            host: new URL(restoreFrom.endpoint).hostname,
            address: restoreFrom.endpoint,
          },
        ]
      : []),
  ];
  const problems = reached.flatMap((a) => {
    // The primary's part at that host: the same one where it is (source at source), else the first.
    const theirs =
      primarySite.find((p) => p.host === a.host && p.setting === a.setting) ??
      primarySite.find((p) => p.host === a.host);
    return theirs
      ? [
          `${a.setting} ${a.address} is on the primary site (${primary.stack.name}'s ${theirs.setting} ${theirs.address})`,
        ]
      : [];
  });
  const region = dr.settings.aws?.primaryRegion;
  if (region && region === primary.settings.aws?.primaryRegion) {
    problems.push(`aws.primaryRegion ${region} is ${primary.stack.name}'s region`);
  }
  if (problems.length > 0) {
    throw new Error(
      `stack ${dr.stack.name} would reach the primary site, which a failover cannot count on:\n  ${problems.join("\n  ")}`,
    );
  }
  if (options.force) return;
  const names = pipelineNames(dr.settings.pipeline, dr.settings.source);
  const status = await getStatus(connectHttp({ url: dr.settings.kafkaConnect.url }, 10_000), names.sourceConnector, [
    dr.sourcePassword,
    dr.targetPassword,
  ]);
  if (status?.state === "RUNNING") {
    throw new Error(
      `stack ${dr.stack.name} already serves writes: its connector ${names.sourceConnector} is RUNNING at ` +
        `${dr.settings.kafkaConnect.url}; a drill would replace its source and rebuild its target (pass --force to drill anyway)`,
    );
  }
}

/** Runs a user's command of the drill (--cut-primary, --heal-primary): its output to stderr, bounded in time. */
function runStep(option: string, command: string, log: (line: string) => void): void {
  log(`${option}: ${command}`);
  const run = spawnSync("bash", ["-c", command], { stdio: ["ignore", "inherit", "inherit"], timeout: 300_000 });
  if (run.status !== 0) {
    throw new Error(`${option} command failed (${run.signal ?? `exit ${run.status}`}): ${command}`);
  }
}

/**
 * How long the PostgreSQL and HTTP probes of `answering` wait: a site cut off drops packets, so each runs to
 * its timeout. (The mssql driver's connect timeout is its own, 15 s: lib/sqlserver.ts.)
 */
const PROBE_TIMEOUT_MS = 3_000;

/** The primary's parts that still answer within a few seconds: its source (a query) and its Connect REST API. */
async function answering(site: StackSite): Promise<string[]> {
  const { source, kafkaConnect } = site.settings;
  const probes: [string, () => Promise<unknown>][] = [
    [
      `source.host ${source.host}:${source.port}`,
      () =>
        source.engine === "postgres"
          ? withClient(sourceConnection(site), (c) => c.query("SELECT 1"), PROBE_TIMEOUT_MS)
          : withSqlServer(sourceConnection(site), (c) => c.query("SELECT 1"), 5_000),
    ],
    [`kafkaConnect.url ${kafkaConnect.url}`, () => connectHttp({ url: kafkaConnect.url }, PROBE_TIMEOUT_MS).get("/")],
  ];
  const answered = await Promise.all(
    probes.map(([what, probe]) =>
      probe().then(
        () => what,
        () => undefined,
      ),
    ),
  );
  return answered.filter((what): what is string => what !== undefined);
}

/** Waits until the healed primary answers again (its source and Connect), for at most `timeoutMs`. */
async function waitUntilAnswering(site: StackSite, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if ((await answering(site)).length === 2) return;
    if (performance.now() > deadline) {
      throw new Error(`stack ${site.stack.name} did not answer within ${timeoutMs / 1000} s of --heal-primary`);
    }
    await sleep(1000);
  }
}

export interface FailBackReport {
  /** Fencing the old primary, before anything else. */
  readonly fence: FenceReport;
  /** Fencing the DR site next, so that the backup taken there holds its last write. */
  readonly fenceDr: FenceReport;
  readonly switched: SwitchReport;
  /** The primary's source and target afterwards. */
  readonly reconciled: ReconcileReport;
  /** No row lost, the target as the backup's manifest says, and reconciled. */
  readonly ok: boolean;
}

/** A switch that lost no row and left a target as the backup's manifest says, reconciled with its source. */
const switched = (r: SwitchReport, reconciled: ReconcileReport) =>
  r.rowsLost === 0 && r.backupCheck.every((t) => t.ok) && reconciled.status === "match";

/**
 * Failback to the old primary once it is back: fenced first (connectors stopped, source read-only), then the DR
 * site fenced as well (a planned switch: nothing written there after its backup is left behind), then the
 * primary restored from a fresh backup of the DR site, rebuilt and reconciled. The DR site stays fenced until a
 * failover restores and deploys it again.
 */
export async function failBack(
  primary: StackSite,
  dr: StackSite,
  options: Omit<SwitchOptions, "restore" | "held"> & { readonly settleMs?: number },
): Promise<FailBackReport> {
  const { settleMs, ...switchOptions } = options;
  const fence = await fenceSite(primary);
  options.log?.(describeFence(fence));
  const fenceDr = await fenceSite(dr);
  options.log?.(describeFence(fenceDr));
  const back = await switchSite(dr, primary, { ...switchOptions, restore: backUpAndRestore });
  const reconciled = await reconcileSite(primary, { settleMs });
  return { fence, fenceDr, switched: back, reconciled, ok: switched(back, reconciled) };
}

export interface DrillOptions extends Omit<SwitchOptions, "restore" | "held"> {
  /** A shell command that cuts the primary site off (drops its packets, freezes its processes). */
  readonly cutPrimary?: string;
  /** A shell command that brings it back, before the failback. Required with cutPrimary, unless no failback. */
  readonly healPrimary?: string;
  /** Fail back after the failover. Default: true. */
  readonly failback?: boolean;
  /** Drill even though the DR site serves writes. */
  readonly force?: boolean;
  /** How long reconcile waits for rows in flight. */
  readonly settleMs?: number;
}

export interface DrillReport {
  readonly failover: SwitchReport;
  readonly drReconciled: ReconcileReport;
  readonly failback?: FailBackReport;
  /** No row lost, every target as its backup's manifest says and reconciled with its source. */
  readonly ok: boolean;
}

/** The whole drill: checks, the cut, the failover, the heal, the fenced failback; each site reconciled. */
export async function runDrill(primary: StackSite, dr: StackSite, options: DrillOptions): Promise<DrillReport> {
  const log = options.log ?? (() => undefined);
  if (options.cutPrimary && options.failback !== false && !options.healPrimary) {
    throw new Error("--cut-primary needs --heal-primary to fail back (or pass --no-failback)");
  }
  await checkDrill(primary, dr, options);
  const switchOptions = { log, onOutput: options.onOutput, catchUpTimeoutMs: options.catchUpTimeoutMs };
  // Counted while the primary can still be reached: the RPO is what it held beyond the restored backup.
  const held = { rows: await sourceRowCounts(primary), at: Date.now() };
  if (options.cutPrimary) {
    runStep("--cut-primary", options.cutPrimary, log);
    const still = await answering(primary);
    if (still.length > 0) {
      throw new Error(
        `--cut-primary ran, but ${primary.stack.name}'s ${still.join(" and ")} still answer: a failover now would not show that the DR site works without it`,
      );
    }
  }
  const failover = await switchSite(primary, dr, { ...switchOptions, restore: restoreFromReplica, held });
  const drReconciled = await reconcileSite(dr, { settleMs: options.settleMs });
  if (options.failback === false) return { failover, drReconciled, ok: switched(failover, drReconciled) };
  if (options.healPrimary) {
    runStep("--heal-primary", options.healPrimary, log);
    await waitUntilAnswering(primary, 120_000);
  }
  const failback = await failBack(primary, dr, { ...switchOptions, settleMs: options.settleMs });
  return { failover, drReconciled, failback, ok: switched(failover, drReconciled) && failback.ok };
}

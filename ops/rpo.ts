// The recovery point check: the newest backup of each kind in the backup bucket against the stack's RPO
// targets, and the bucket settings the RPO depends on (versioning, lifecycle, replication with RTC). Backups
// are the objects the stack's key template names (backups.keyTemplate), which the backup command writes.
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  HeadObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import Table from "cli-table3";
import { BACKUP_KINDS, logPrefix, type BackupKind, type RpoKind } from "../lib/backup-keys";
import { archivedSegments } from "./wal-archive";
import { listBackups, listSqlServerLogs, type BackupSource } from "../lib/backup-objects";

export type RpoHours = Record<RpoKind, number>;

/** How long S3 Replication Time Control takes to replicate (nearly) every object: after it, PENDING is late. */
const RTC_MINUTES = 15;

export interface NewestBackup {
  readonly key: string;
  readonly lastModified: Date;
  readonly size: number;
}

export interface BackupAge {
  readonly kind: BackupKind;
  /** The key template the backups were looked for by. */
  readonly keyTemplate: string;
  /** The newest object under `<kind>/`; absent when there is none. */
  readonly newest?: NewestBackup;
  readonly ageHours?: number;
  readonly targetHours: number;
  /** S3's ReplicationStatus of the newest object (COMPLETED, PENDING, FAILED); absent: not reported. */
  readonly replication?: string;
  /** ok, or what is wrong: no backup, too old, replication failed or late. */
  readonly problems: string[];
}

export interface BucketCheck {
  readonly setting: "versioning" | "lifecycle" | "replication";
  readonly ok: boolean;
  readonly detail: string;
}

export interface RpoReport {
  readonly bucket: string;
  readonly checkedAt: Date;
  /** ok: every kind within its target and the bucket set up; missed: otherwise. */
  readonly status: "ok" | "missed";
  readonly backups: BackupAge[];
  readonly bucketChecks: BucketCheck[];
}

export const RPO_EXIT = { ok: 0, missed: 1, error: 2 } as const;

/** The newest object of each kind the key template names (every page of the listing is read). */
export async function newestBackups(source: BackupSource): Promise<Partial<Record<RpoKind, NewestBackup>>> {
  const newest: Partial<Record<RpoKind, NewestBackup>> = {};
  for (const kind of BACKUP_KINDS) newest[kind] = (await listBackups(source, kind)).at(-1);
  return newest;
}

const errorName = (err: unknown) => (err as { name?: string }).name ?? "";

/**
 * A bucket configuration that is not there: `[]` for S3's "none set" error (the name differs per setting),
 * or for a store that does not implement the setting at all; other errors are thrown.
 */
async function configuration<T>(read: Promise<T[]>, noneSet: string): Promise<{ items: T[]; unsupported: boolean }> {
  try {
    return { items: await read, unsupported: false };
  } catch (err) {
    if (errorName(err) === noneSet) return { items: [], unsupported: false };
    if (errorName(err) === "NotImplemented") return { items: [], unsupported: true };
    throw err;
  }
}
const UNSUPPORTED = "not supported by this store";

export async function bucketChecks(client: S3Client, bucket: string): Promise<BucketCheck[]> {
  const versioning = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  const checks: BucketCheck[] = [
    {
      setting: "versioning",
      ok: versioning.Status === "Enabled",
      detail: versioning.Status === "Enabled" ? "enabled" : `${versioning.Status ?? "never enabled"} (must be Enabled)`,
    },
  ];

  const lifecycle = await configuration(
    client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })).then((r) => r.Rules ?? []),
    "NoSuchLifecycleConfiguration",
  );
  const enabledRules = lifecycle.items.filter((r) => r.Status === "Enabled");
  checks.push({
    setting: "lifecycle",
    ok: enabledRules.length > 0,
    detail: lifecycle.unsupported
      ? UNSUPPORTED
      : enabledRules.length > 0
        ? `${enabledRules.length} rule(s) enabled`
        : "no enabled lifecycle rule",
  });

  const replication = await configuration(
    client
      .send(new GetBucketReplicationCommand({ Bucket: bucket }))
      .then((r) => r.ReplicationConfiguration?.Rules ?? []),
    "ReplicationConfigurationNotFoundError",
  );
  const enabled = replication.items.filter((r) => r.Status === "Enabled");
  const timed = enabled.filter(
    (r) => r.Destination?.ReplicationTime?.Status === "Enabled" && r.Destination.Metrics?.Status === "Enabled",
  );
  checks.push({
    setting: "replication",
    ok: timed.length > 0,
    detail: replication.unsupported
      ? UNSUPPORTED
      : enabled.length === 0
        ? "no enabled replication rule"
        : timed.length === 0
          ? "replication without Replication Time Control and metrics"
          : `to ${timed.map((r) => r.Destination?.Bucket).join(", ")} with Replication Time Control`,
  });
  return checks;
}

/** The newest object's replication status, where the store reports one. */
async function replicationStatus(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ReplicationStatus;
  } catch (err) {
    // Expired between the listing and now: its age was measured all the same.
    if (errorName(err) === "NotFound") return undefined;
    // A HEAD's error has no body: S3 says only its status (403: s3:GetObject is not granted).
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    throw new Error(`HEAD s3://${bucket}/${key}: ${errorName(err) || "error"} (HTTP ${status ?? "no answer"})`);
  }
}

/** What makes a backup miss its RPO: none at all, too old, or not (yet) in the DR region. */
export function backupProblems(age: Omit<BackupAge, "problems">): string[] {
  if (!age.newest || age.ageHours === undefined) return [`no ${age.kind} backup named like ${age.keyTemplate}`];
  const problems: string[] = [];
  if (age.ageHours > age.targetHours) {
    // The log's target is minutes: say it in minutes.
    problems.push(
      age.kind === "log"
        ? `${(age.ageHours * 60).toFixed(1)} min old, RPO target ${Math.round(age.targetHours * 60)} min`
        : `${age.ageHours.toFixed(1)} h old, RPO target ${age.targetHours} h`,
    );
  }
  if (age.replication === "FAILED") problems.push("replication to the DR region FAILED");
  if (age.replication === "PENDING" && age.ageHours * 60 > RTC_MINUTES) {
    problems.push(`replication still PENDING after ${RTC_MINUTES} min`);
  }
  return problems;
}

export interface RpoCheckOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly rpoHours: RpoHours;
  /** The key template the backups are named by (config backups.keyTemplate). */
  readonly keyTemplate: string;
  /**
   * Point in time (backups.schedule names `log`): the newest log of `stack` is held to `logMinutes` (PostgreSQL:
   * archived WAL; SQL Server: log backups), and a PostgreSQL source's newest base backup to the database's
   * target (a SQL Server log restores on top of the database kind, which is checked already).
   */
  readonly pointInTime?: {
    readonly stack: string;
    readonly engine: "postgres" | "sqlserver";
    readonly logMinutes: number;
  };
  /** The time ages are measured at. Default: now. */
  readonly now?: Date;
}

/** Throws when the bucket cannot be read (missing, unreachable, access denied): that is no answer. */
export async function checkRpo(options: RpoCheckOptions): Promise<RpoReport> {
  const { client, bucket, rpoHours } = options;
  const now = options.now ?? new Date();
  const newest = await newestBackups({ client, bucket, keyTemplate: options.keyTemplate });
  const targets: [BackupKind, NewestBackup | undefined, number][] = BACKUP_KINDS.map((kind) => [
    kind,
    newest[kind],
    rpoHours[kind],
  ]);
  const pit = options.pointInTime;
  if (pit?.engine === "sqlserver") {
    targets.push(["log", (await listSqlServerLogs({ client, bucket }, pit.stack)).at(-1), pit.logMinutes / 60]);
  } else if (pit) {
    const base = (await listBackups({ client, bucket, keyTemplate: options.keyTemplate }, "base")).at(-1);
    const wal = (await archivedSegments(client, bucket, pit.stack)).sort(
      (a, b) => a.lastModified.getTime() - b.lastModified.getTime(),
    );
    const log = wal.at(-1);
    targets.push(["base", base, rpoHours.database]);
    targets.push(["log", log && { key: log.key, lastModified: log.lastModified, size: 0 }, pit.logMinutes / 60]);
  }
  const backups: BackupAge[] = [];
  for (const [kind, found, targetHours] of targets) {
    const age = {
      kind,
      keyTemplate:
        kind !== "log"
          ? options.keyTemplate
          : `${logPrefix(pit?.stack ?? "")}${pit?.engine === "sqlserver" ? "<time>.trn" : "<segment>"}`,
      newest: found,
      ageHours: found ? (now.getTime() - found.lastModified.getTime()) / 3_600_000 : undefined,
      targetHours,
      replication: found ? await replicationStatus(client, bucket, found.key) : undefined,
    };
    backups.push({ ...age, problems: backupProblems(age) });
  }
  const checks = await bucketChecks(client, bucket);
  const ok = backups.every((b) => b.problems.length === 0) && checks.every((c) => c.ok);
  return { bucket, checkedAt: now, status: ok ? "ok" : "missed", backups, bucketChecks: checks };
}

export function formatRpo(report: RpoReport): string {
  const table = new Table({
    head: ["kind", "newest backup", "age (h)", "RPO (h)", "replication", "status"],
    style: { head: [], border: [] },
  });
  for (const b of report.backups) {
    table.push([
      b.kind,
      b.newest ? `${b.newest.key} (${b.newest.lastModified.toISOString()})` : "-",
      b.ageHours === undefined ? "-" : b.ageHours.toFixed(1),
      b.targetHours,
      b.newest ? (b.replication ?? "not reported") : "-",
      b.problems.length === 0 ? "ok" : b.problems.join("; "),
    ]);
  }
  const lines = [`s3://${report.bucket} at ${report.checkedAt.toISOString()}`, table.toString()];
  for (const c of report.bucketChecks) lines.push(`${c.setting}: ${c.ok ? "ok" : "MISSING"}, ${c.detail}`);
  lines.push(report.status === "ok" ? "Every RPO target is met." : "RPO targets missed or not guaranteed.");
  return lines.join("\n");
}

// Restores of a SQL Server source's backups (`restore`, `restore --at`, `backup verify`, the drill): each object
// is downloaded into backups.sqlServer's directory and checked against its manifest before anything is
// restored, then RESTORE ... FROM DISK with MOVE (and the log backups up to STOPAT) runs on master
// (lib/sqlserver-backup.ts), and the files are removed. Without KEEP_CDC: the stack enables CDC again.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import {
  downloadVerified,
  listSqlServerLogs,
  readManifest,
  type BackupManifest,
  type BackupSource,
} from "../lib/backup-objects";
import { sqlServerName } from "../lib/sqlserver";
import {
  restoreDatabaseFrom,
  sqlServerDatabaseExists,
  takeSqlServerDatabaseOffline,
  type RestoreResult,
} from "../lib/sqlserver-backup";
import { sqlServerFile, type SqlServerDirectories, type SqlServerSession } from "./backup";
import { completedAt, pointInTimeStart } from "./point-in-time";

/** The SQL Server a backup is restored onto, and the directory it reads backups from. */
export interface SqlServerRestoreTarget {
  readonly session: SqlServerSession;
  readonly directories: SqlServerDirectories;
}

/** What a restore applies: a full backup, the log backups after it (oldest first), the point to stop at. */
export interface SqlServerRestorePlan {
  readonly full: BackupManifest;
  readonly logs: readonly BackupManifest[];
  readonly stopAt?: Date;
}

/**
 * Restores a plan as `database`: refused first when the database exists (unless `replace`: then it is taken
 * offline, its sessions rolled back, and restored over), so nothing is downloaded for nothing.
 */
export async function restoreSqlServerBackup(
  server: SqlServerRestoreTarget,
  source: BackupSource,
  plan: SqlServerRestorePlan,
  database: string,
  options: { readonly replace?: boolean } = {},
): Promise<RestoreResult> {
  if (!sqlServerName.safeParse(database).success) {
    throw new Error(`--to-database: '${database}' is not a SQL Server database name (1 to 128 characters)`);
  }
  const objects = [plan.full, ...plan.logs];
  const wrong = objects.find((m, i) => m.source?.engine !== "sqlserver" || m.kind !== (i === 0 ? "database" : "log"));
  if (wrong) throw new Error(`${wrong.key} is not a SQL Server ${wrong === plan.full ? "database" : "log"} backup`);
  const onMaster = { database: "master", requestTimeoutMs: server.directories.timeoutMinutes * 60_000 };
  const exists = await server.session((client) => sqlServerDatabaseExists(client, database), onMaster);
  if (exists && !options.replace) {
    throw new Error(`--to-database ${database} exists: pass --replace to restore over it`);
  }
  const tag = randomBytes(4).toString("hex");
  const files = objects.map((_m, i) =>
    sqlServerFile(server.directories, `cdc-restore-${tag}-${i}.${i === 0 ? "bak" : "trn"}`),
  );
  try {
    for (const [i, m] of objects.entries()) await downloadVerified(source.client, source.bucket, m, files[i].local);
    return await server.session(async (client) => {
      if (exists) await takeSqlServerDatabaseOffline(client, database);
      return restoreDatabaseFrom(client, {
        database,
        from: { disk: files[0].server },
        logBackups: files.slice(1).map((f) => ({ disk: f.server })),
        stopAt: plan.stopAt,
        replace: exists,
      });
    }, onMaster);
  } finally {
    for (const f of files) rmSync(f.local, { force: true });
  }
}

const lsn = (text: string | undefined) => BigInt(text ?? "0");
const ofSqlServer = (m: BackupManifest) => m.source?.engine === "sqlserver";

/** The manifests of a stack's SQL Server log backups, oldest first. */
async function sqlServerLogs(source: BackupSource, stack: string) {
  const manifests: BackupManifest[] = [];
  for (const b of await listSqlServerLogs(source, stack)) {
    const m = await readManifest(source.client, source.bucket, b.key).catch(() => undefined);
    if (m?.stack === stack && ofSqlServer(m)) manifests.push(m);
  }
  return manifests.sort((a, b) => completedAt(a) - completedAt(b));
}

/**
 * What restores `stack`'s SQL Server source as it was at `at`: the newest full backup completed before it, and
 * the fewest log backups that reach from it to the first one completed at or after `at`. Copy-only log backups
 * each hold the log since the last regular one, so one of them often suffices; a regular log backup taken by
 * another job in between breaks the chain, and that is said. Refused when `at` is before the oldest full
 * backup or after the newest log backup.
 */
export async function sqlServerPointInTime(
  source: BackupSource,
  stack: string,
  at: Date,
): Promise<SqlServerRestorePlan> {
  const full = await pointInTimeStart(source, "database", stack, at, ofSqlServer);
  const logs = (await sqlServerLogs(source, stack)).filter(
    (m) => completedAt(m) > completedAt(full) && lsn(m.source?.position) > lsn(full.source?.position),
  );
  const end = logs.findIndex((m) => completedAt(m) >= at.getTime());
  if (end === -1) {
    const newest = logs.at(-1);
    throw new Error(
      `--at ${at.toISOString()} is after the newest log backup of ${stack} (` +
        (newest ? `completed ${new Date(completedAt(newest)).toISOString()})` : "none since the database backup)"),
    );
  }
  const chain: BackupManifest[] = [];
  let reached = lsn(full.source?.position);
  const goal = lsn(logs[end].source?.position);
  while (reached < goal) {
    // The log backup that starts at or before where the restore has reached and goes furthest (up to `end`).
    const next = logs
      .slice(0, end + 1)
      .filter((m) => lsn(m.source?.firstPosition ?? m.source?.position) <= reached && lsn(m.source?.position) > reached)
      .sort((a, b) => (lsn(b.source?.position) > lsn(a.source?.position) ? 1 : -1))[0];
    if (!next) {
      throw new Error(
        `--at: the log chain of ${stack} breaks at LSN ${reached}: no log backup of it begins there (a regular log ` +
          "backup taken by another job holds the log in between; restore from that job's backups)",
      );
    }
    chain.push(next);
    reached = lsn(next.source?.position);
  }
  return { full, logs: chain, stopAt: at };
}

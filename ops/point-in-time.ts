// Where a restore to a point in time starts, whichever the engine: the newest backup of the stack completed by
// then (PostgreSQL's base backup, replayed with the archived WAL; SQL Server's full backup, with its log backups).
import { keyTime } from "../lib/backup-keys";
import { listBackups, readManifest, type BackupManifest, type BackupSource } from "../lib/backup-objects";

/** When a backup completed: when it was taken, and the seconds it took (its manifest is written then). */
export const completedAt = (m: BackupManifest): number => Date.parse(m.takenAt) + m.seconds * 1000;

/**
 * The newest backup of `kind` of `stack` completed by `at` (and that `accept` takes); refused, naming the
 * oldest one, when `at` is before it. Only the manifests of backups that can have completed by `at` are read,
 * newest first: one whose key names a time after `at` was taken after it. (Not the objects' LastModified: the
 * bucket's clock, where the manifest's times are the backup's host's.) A backup without a manifest (one still
 * being written) is passed over.
 */
export async function pointInTimeStart(
  source: BackupSource,
  kind: "base" | "database",
  stack: string,
  at: Date,
  accept: (m: BackupManifest) => boolean = () => true,
): Promise<BackupManifest> {
  const listed = await listBackups(source, kind);
  const manifests = new Map<string, BackupManifest | undefined>();
  const ofStack = async (key: string) => {
    if (!manifests.has(key)) {
      const m = await readManifest(source.client, source.bucket, key).catch(() => undefined);
      manifests.set(key, m?.stack === stack && accept(m) ? m : undefined);
    }
    return manifests.get(key);
  };
  const candidates = listed
    // Every listed key is one of the kind's, so it names its time.
    .map((b) => ({ key: b.key, takenAt: keyTime(source.keyTemplate, kind, b.key)?.getTime() ?? 0 }))
    .filter((b) => b.takenAt <= at.getTime())
    .sort((a, b) => b.takenAt - a.takenAt);
  for (const b of candidates) {
    const m = await ofStack(b.key);
    if (m && completedAt(m) <= at.getTime()) return m;
  }
  // Refused: the oldest one's completion says why (every manifest is read for it, on this path only).
  let oldest: number | undefined;
  for (const b of listed) {
    const m = await ofStack(b.key);
    if (m && (oldest === undefined || completedAt(m) < oldest)) oldest = completedAt(m);
  }
  throw new Error(
    oldest === undefined
      ? `--at: no ${kind} backup of ${stack} in s3://${source.bucket}: run \`cdc-pipeline backup --kind ${kind}\` first`
      : `--at ${at.toISOString()} is before the oldest ${kind} backup (completed ${new Date(oldest).toISOString()})`,
  );
}

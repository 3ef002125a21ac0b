// `cdc-pipeline restore` and `backup verify`: a database backup found in a bucket, its bytes checked against
// its manifest before anything is written, restored with pg_restore; and the restored tables compared with
// the counts and hashes the manifest recorded in the dump's own snapshot.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { verificationKey } from "../lib/backup-keys";
import {
  BackupIntegrityError,
  downloadVerified,
  listBackups,
  putJson,
  readManifest,
  type BackupManifest,
  type BackupSource,
  type TableDigest,
} from "../lib/backup-objects";
import { pgName, type PostgresConnection } from "../lib/postgres";
import { createDatabase, databaseState, dropDatabase, restoreDump } from "../lib/postgres-backup";
import { stackTables, tableDigest, withPostgresSide } from "./reconcile";
import type { StackSite } from "./stacks";

/** The database backup to restore: the one named, else the newest whose manifest is there. */
export async function chooseDatabaseBackup(source: BackupSource, objectKey?: string): Promise<BackupManifest> {
  if (objectKey !== undefined) return readManifest(source.client, source.bucket, objectKey);
  const backups = await listBackups(source, "database");
  if (backups.length === 0) {
    throw new Error(
      `no database backup in s3://${source.bucket} (keys like ${source.keyTemplate}): run \`cdc-pipeline backup --kind database\` first`,
    );
  }
  // The newest one; its manifest is written last, so an object without one is a backup still being written.
  for (const b of backups.reverse()) {
    const manifest = await readManifest(source.client, source.bucket, b.key).catch((err: unknown) => {
      if (err instanceof BackupIntegrityError) return undefined;
      throw err;
    });
    if (manifest) return manifest;
  }
  throw new Error(`no database backup in s3://${source.bucket} has a manifest: none can be verified`);
}

export interface RestoreOptions {
  /** Drop a database that is not empty first. Default: refuse it. */
  readonly replace?: boolean;
}

/**
 * Restores a PostgreSQL dump into `database` on `server`: downloaded and checked first, then the database
 * created (or, with `replace`, dropped and created), then pg_restore. Without CDC: the stack enables it.
 */
export async function restoreDatabase(
  server: PostgresConnection,
  source: BackupSource,
  manifest: BackupManifest,
  database: string,
  options: RestoreOptions = {},
): Promise<void> {
  if (!pgName.safeParse(database).success) throw new Error(`--to-database: '${database}' is not a database name`);
  if (manifest.kind !== "database" || manifest.source?.engine !== "postgres") {
    throw new Error(`${manifest.key} is not a PostgreSQL database backup (kind ${manifest.kind})`);
  }
  const state = await databaseState(server, database);
  if (state === "not empty" && !options.replace) {
    throw new Error(`--to-database ${database} is not empty: pass --replace to drop it and restore into a new one`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), "cdc-restore-"));
  try {
    const file = path.join(dir, "backup.dump");
    await downloadVerified(source.client, source.bucket, manifest, file);
    if (state !== "missing") await dropDatabase(server, database);
    await createDatabase(server, database);
    await restoreDump(server, database, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TableVerification {
  readonly table: string;
  readonly expected: TableDigest;
  readonly restored?: TableDigest;
  readonly ok: boolean;
}

export interface VerifyReport {
  readonly key: string;
  readonly verifiedAt: string;
  /** match: the restored copy holds what the manifest says; mismatch: it does not, or the bytes differ. */
  readonly status: "match" | "mismatch";
  readonly tables: TableVerification[];
  /** Why the backup could not be restored (its bytes do not match its manifest). */
  readonly problem?: string;
  /** Where the result was recorded. */
  readonly recordedAs: string;
}

export const VERIFY_EXIT = { match: 0, mismatch: 1, error: 2 } as const;

/**
 * Restores a backup into a scratch database on the stack's source server, compares every table's count and
 * hash with the manifest, drops the scratch database and records the result under verify/ in the bucket.
 */
export async function verifyBackup(
  site: StackSite,
  server: PostgresConnection,
  source: BackupSource,
  manifest: BackupManifest,
): Promise<VerifyReport> {
  const scratch = `cdc_verify_${randomBytes(4).toString("hex")}`;
  const verifiedAt = new Date();
  const expected = manifest.source?.tables ?? {};
  let tables: TableVerification[] = [];
  let problem: string | undefined;
  try {
    await restoreDatabase(server, source, manifest, scratch);
    tables = await withPostgresSide({ ...server, database: scratch }, async (side) => {
      const result: TableVerification[] = [];
      for (const t of stackTables(site)) {
        const name = `${t.source.schema}.${t.source.name}`;
        const want = expected[name] ?? { rows: -1, hash: "not in the manifest" };
        const restored = await tableDigest(side, t).catch(() => undefined);
        result.push({
          table: name,
          expected: want,
          restored,
          ok: restored?.rows === want.rows && restored.hash === want.hash,
        });
      }
      return result;
    });
  } catch (err) {
    if (!(err instanceof BackupIntegrityError)) throw err;
    problem = err.message;
  } finally {
    await dropDatabase(server, scratch);
  }
  const recordedAs = verificationKey(manifest.key, verifiedAt);
  const status = problem === undefined && tables.every((t) => t.ok) ? "match" : "mismatch";
  const report: VerifyReport = {
    key: manifest.key,
    verifiedAt: verifiedAt.toISOString(),
    status,
    tables,
    problem,
    recordedAs,
  };
  await putJson({ client: source.client, bucket: source.bucket }, recordedAs, report);
  return report;
}

export function formatVerify(r: VerifyReport): string {
  const lines = [`s3 object ${r.key}: ${r.status}${r.problem ? ` (${r.problem})` : ""}`];
  for (const t of r.tables) {
    lines.push(
      `  ${t.table}: ${t.ok ? "ok" : "DIFFERS"}, manifest ${t.expected.rows} rows, restored ${t.restored?.rows ?? "unreadable"}`,
    );
  }
  lines.push(`recorded as ${r.recordedAs}`);
  return lines.join("\n");
}

// `cdc-pipeline restore` and `backup verify`: a database backup found in a bucket, its bytes checked against
// its manifest before anything is written, restored with pg_restore; and the restored tables compared with
// the counts and hashes the manifest recorded in the dump's own snapshot.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { verificationKey } from "../lib/backup-keys";
import {
  BackupIntegrityError,
  downloadObject,
  downloadVerified,
  listBackups,
  putJson,
  readManifest,
  type BackupManifest,
  type BackupSource,
  type TableDigest,
} from "../lib/backup-objects";
import { completion } from "../lib/child-process";
import { pgName, type PostgresConnection } from "../lib/postgres";
import { createDatabase, databaseState, dropDatabase, dumpToFile, restoreDump } from "../lib/postgres-backup";
import { postgresUser, recoverToTime, waitForPromotion } from "../lib/postgres-pitr";
import { archivedSegments, shippedSha256, type ArchivedSegment } from "./wal-archive";
import { pointInTimeStart } from "./point-in-time";
import { sqlServerDirectories, sqlServerSessions } from "./backup";
import {
  sqlServerSide,
  tableDigest,
  withPostgresSide,
  type ReconciledTable,
  type ReconcileSide,
} from "../lib/reconcile";
import { stackTables } from "./reconcile";
import { restoreSqlServerBackup, type SqlServerRestoreTarget } from "./sqlserver-restore";
import { sourceConnection, type StackSite } from "./stacks";
import { dropSqlServerDatabase } from "../lib/sqlserver-backup";

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
 * Puts a dump file in place as `database` on `server`, once `obtain` has written it (and checked it): the
 * database is refused first when it is not empty (unless `replace`), so nothing is downloaded for nothing;
 * then it is created (or dropped and created) and the dump restored. Without CDC: the stack enables it.
 */
async function installDump(
  server: PostgresConnection,
  database: string,
  options: RestoreOptions,
  obtain: (file: string, dir: string) => Promise<void>,
): Promise<void> {
  if (!pgName.safeParse(database).success) throw new Error(`--to-database: '${database}' is not a database name`);
  const state = await databaseState(server, database);
  if (state === "not empty" && !options.replace) {
    throw new Error(`--to-database ${database} is not empty: pass --replace to drop it and restore into a new one`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), "cdc-restore-"));
  try {
    const file = path.join(dir, "backup.dump");
    await obtain(file, dir);
    if (state !== "missing") await dropDatabase(server, database);
    await createDatabase(server, database);
    await restoreDump(server, database, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Restores a PostgreSQL dump (downloaded and checked against its manifest first) as `database` on `server`. */
export async function restoreDatabase(
  server: PostgresConnection,
  source: BackupSource,
  manifest: BackupManifest,
  database: string,
  options: RestoreOptions = {},
): Promise<void> {
  if (manifest.kind !== "database" || manifest.source?.engine !== "postgres") {
    throw new Error(`${manifest.key} is not a PostgreSQL database backup (kind ${manifest.kind})`);
  }
  await installDump(server, database, options, (file) =>
    downloadVerified(source.client, source.bucket, manifest, file),
  );
}

/** The server a stack's backups are restored onto: its source server, reached as its engine needs. */
export type RestoreServer =
  | { readonly engine: "postgres"; readonly connection: PostgresConnection }
  | ({ readonly engine: "sqlserver" } & SqlServerRestoreTarget);

/** The stack's source server (a SQL Server one needs backups.sqlServer: the directory RESTORE reads). */
export function restoreServer(site: StackSite): RestoreServer {
  const connection = sourceConnection(site);
  if (site.settings.source.engine === "postgres") return { engine: "postgres", connection };
  return {
    engine: "sqlserver",
    session: sqlServerSessions(connection),
    directories: sqlServerDirectories(site.settings.backups),
  };
}

/** Restores a database backup as `database` on the stack's source server, whichever its engine. */
export async function restoreBackup(
  server: RestoreServer,
  source: BackupSource,
  manifest: BackupManifest,
  database: string,
  options: RestoreOptions = {},
): Promise<void> {
  if (server.engine === "postgres") return restoreDatabase(server.connection, source, manifest, database, options);
  await restoreSqlServerBackup(server, source, { full: manifest, logs: [] }, database, options);
}

/** What a point-in-time restore replayed: the base backup, the WAL segments, and the time it stopped at. */
export interface PointInTimeRestore {
  readonly base: BackupManifest;
  readonly segments: number;
  readonly at: string;
}

/**
 * Restores the source database as it was at `at`: the newest base backup completed before `at`, replayed in
 * a private cluster with the archived WAL up to `at` (the last transaction committed at or before it), the
 * database dumped from there and restored as `database` on `server`. Refused, before anything is written,
 * when `at` is before the oldest usable base backup or after the newest archived WAL.
 */
export async function restoreToTime(
  server: PostgresConnection,
  source: BackupSource,
  stack: string,
  at: Date,
  database: string,
  options: RestoreOptions = {},
): Promise<PointInTimeRestore> {
  const base = await pointInTimeStart(source, "base", stack, at);
  const wal = (await archivedSegments(source.client, source.bucket, stack)).filter(
    (s) => s.segment >= (base.source?.startSegment ?? ""),
  );
  const newest = wal.reduce((t, s) => Math.max(t, s.lastModified.getTime()), 0);
  if (newest < at.getTime()) {
    throw new Error(
      `--at ${at.toISOString()} is after the newest archived WAL of ${stack} (` +
        (newest ? `shipped ${new Date(newest).toISOString()})` : "none since the base backup)"),
    );
  }
  await installDump(server, database, options, async (file, dir) => {
    await replayToTime(source, base, wal, at, dir, { ...server, database: base.source?.database ?? "" }, file);
  });
  return { base, segments: wal.length, at: at.toISOString() };
}

/** Extracts the base backup and the WAL into `dir`, recovers to `at` there, and dumps the database to `file`. */
async function replayToTime(
  source: BackupSource,
  base: BackupManifest,
  wal: readonly ArchivedSegment[],
  at: Date,
  dir: string,
  original: PostgresConnection,
  file: string,
): Promise<void> {
  const tar = path.join(dir, "base.tar");
  await downloadVerified(source.client, source.bucket, base, tar);
  const data = path.join(dir, "data");
  const walDir = path.join(dir, "wal");
  mkdirSync(data, { mode: 0o700 });
  mkdirSync(walDir);
  await completion(spawn("tar", ["-xf", tar, "-C", data], { stdio: ["ignore", "ignore", "pipe"] }), "tar");
  rmSync(tar);
  for (const s of wal) {
    // A complete segment wins over the partial one of the same name, which it supersedes.
    if (s.partial && wal.some((o) => o.segment === s.segment && !o.partial)) continue;
    const target = path.join(walDir, s.segment);
    const metadata = await downloadObject(source.client, source.bucket, s.key, target);
    if (shippedSha256(metadata) !== createHash("sha256").update(readFileSync(target)).digest("hex")) {
      throw new BackupIntegrityError(`s3://${source.bucket}/${s.key} does not match the sha256 it was shipped with`);
    }
  }
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
  const cluster = await recoverToTime(dir, at, owner);
  try {
    const local = {
      host: cluster.socketDir,
      port: cluster.port,
      database: "postgres",
      user: original.user,
      password: "",
    };
    await waitForPromotion(local, path.join(dir, "recovery.log"));
    await dumpToFile({ ...local, database: original.database }, file);
  } finally {
    await cluster.stop();
  }
}

export interface TableVerification {
  readonly table: string;
  /** What the manifest recorded; absent for a SQL Server backup, whose manifest records no digests. */
  readonly expected?: TableDigest;
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
 * Each table's count and hash on a side, read under the source's names or the target's, against those the
 * backup's manifest recorded: a restored copy, or a target rebuilt from one. A manifest with no digests (SQL
 * Server's) only asks that each table be there and readable.
 */
export async function compareWithManifest(
  side: ReconcileSide,
  tables: ReconciledTable[],
  manifest: BackupManifest,
  names: "source" | "target",
): Promise<TableVerification[]> {
  const expected = manifest.source?.tables ?? {};
  const recorded = Object.keys(expected).length > 0;
  const result: TableVerification[] = [];
  for (const t of tables) {
    const name = `${t.source.schema}.${t.source.name}`;
    const want = recorded ? (expected[name] ?? { rows: -1, hash: "not in the manifest" }) : undefined;
    const restored = await tableDigest(side, t, t[names]).catch(() => undefined);
    const ok = restored !== undefined && (!want || (restored.rows === want.rows && restored.hash === want.hash));
    result.push({ table: name, expected: want, restored, ok });
  }
  return result;
}

/**
 * Restores a backup into a scratch database on the stack's source server, compares every table's count and
 * hash with the manifest, drops the scratch database and records the result under verify/ in the bucket.
 * A SQL Server backup's manifest holds no digests (its consistency point is no snapshot a session reads): its
 * restore checks the backup's page checksums, and each table must be there and readable.
 */
export async function verifyBackup(
  site: StackSite,
  server: RestoreServer,
  source: BackupSource,
  manifest: BackupManifest,
): Promise<VerifyReport> {
  const scratch = `cdc_verify_${randomBytes(4).toString("hex")}`;
  const verifiedAt = new Date();
  let tables: TableVerification[] = [];
  let problem: string | undefined;
  const digestAll = (side: ReconcileSide) => compareWithManifest(side, stackTables(site), manifest, "source");
  try {
    if (server.engine === "postgres") {
      await restoreDatabase(server.connection, source, manifest, scratch);
      tables = await withPostgresSide({ ...server.connection, database: scratch }, digestAll);
    } else {
      await restoreSqlServerBackup(server, source, { full: manifest, logs: [] }, scratch);
      tables = await server.session((client) => digestAll(sqlServerSide(client)), { database: scratch });
    }
  } catch (err) {
    if (!(err instanceof BackupIntegrityError)) throw err;
    problem = err.message;
  } finally {
    if (server.engine === "postgres") await dropDatabase(server.connection, scratch);
    else await server.session((client) => dropSqlServerDatabase(client, scratch), { database: "master" });
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
      `  ${t.table}: ${t.ok ? "ok" : "DIFFERS"}, manifest ${t.expected?.rows ?? "(not recorded)"} rows, ` +
        `restored ${t.restored?.rows ?? "unreadable"}`,
    );
  }
  lines.push(`recorded as ${r.recordedAs}`);
  return lines.join("\n");
}

// Point-in-time recovery of a PostgreSQL source: physical base backups (pg_basebackup, as a tar stream), the
// WAL streamed beside them by pg_receivewal into a spool directory, and a recovery that replays a base
// backup to a given time in a private, temporary cluster. That cluster lives only for the restore: the
// database asked for is dumped from it and restored where the caller wants it.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { createServer } from "node:net";
import type { Readable } from "node:stream";
import { completion, consumeOutput } from "./child-process";
import { withClient, type PostgresConnection } from "./postgres";
import { pgProgram, serverArgs, toolEnv } from "./postgres-backup";

/** A WAL segment file's name (timeline and segment), and that name as pg_receivewal writes it while it fills. */
export const WAL_SEGMENT = /^[0-9A-F]{24}$/;
export const PARTIAL_SEGMENT = /^[0-9A-F]{24}\.partial$/;

export interface BaseBackupPosition {
  /** The WAL position before the backup began: replay starts in its segment or a later one. */
  readonly startLsn: string;
  /** That segment: the archive must hold it and every later one. */
  readonly startSegment: string;
  /** A WAL position after the backup ended: it is consistent, and usable for any time after it. */
  readonly endLsn: string;
}

/** The current WAL position and its segment's file name. */
async function walPosition(conn: PostgresConnection): Promise<{ lsn: string; segment: string }> {
  return withClient(conn, async (c) => {
    const res = await c.query<{ lsn: string; segment: string }>(
      "SELECT pg_current_wal_lsn()::text AS lsn, pg_walfile_name(pg_current_wal_lsn()) AS segment",
    );
    return res.rows[0];
  });
}

/**
 * A physical base backup of the whole cluster as one tar stream (no tablespaces besides the default; the WAL
 * it needs comes from the archive, not the tar: `-X none`), consumed as pg_basebackup writes it. Written to
 * stdout, pg_basebackup does not report its WAL positions, so they are read before and after it: a segment
 * too early costs one more download, never a gap.
 */
export async function baseBackup(
  conn: PostgresConnection,
  consume: (tar: Readable) => Promise<void>,
): Promise<BaseBackupPosition> {
  const before = await walPosition(conn);
  const child = spawn(
    pgProgram("pg_basebackup"),
    [...serverArgs(conn), "-D", "-", "-Ft", "-X", "none", "--checkpoint=fast", "-l", "cdc-pipeline"],
    { env: toolEnv(conn), stdio: ["ignore", "pipe", "pipe"] },
  );
  await consumeOutput(child, "pg_basebackup", [conn.password], consume);
  const after = await walPosition(conn);
  return { startLsn: before.lsn, startSegment: before.segment, endLsn: after.lsn };
}

/**
 * pg_receivewal streaming the cluster's WAL into `spool`, through a physical replication slot of its own so
 * that no segment is recycled before it is received (the slot is created when missing). Returns the running
 * process; stopping it (SIGTERM) leaves the spool as it is.
 */
export async function startWalReceiver(conn: PostgresConnection, spool: string, slot: string): Promise<ChildProcess> {
  const create = spawn(
    pgProgram("pg_receivewal"),
    [...serverArgs(conn), "--slot", slot, "--create-slot", "--if-not-exists"],
    {
      env: toolEnv(conn),
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  await completion(create, "pg_receivewal --create-slot", [conn.password]);
  return spawn(pgProgram("pg_receivewal"), [...serverArgs(conn), "-D", spool, "--slot", slot, "--no-password"], {
    env: toolEnv(conn),
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/** The spool's complete segments, oldest first, and the one being filled (if any). */
export function spooledSegments(spool: string): { complete: string[]; partial?: string } {
  const names = existsSync(spool) ? readdirSync(spool).sort() : [];
  return {
    complete: names.filter((n) => WAL_SEGMENT.test(n)),
    partial: names.filter((n) => PARTIAL_SEGMENT.test(n)).at(-1),
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs a PostgreSQL program as the cluster's owner: the server refuses to run as root, so as root the
 * temporary cluster belongs to the `postgres` user and its programs run as that user.
 */
function asOwner(program: string, args: string[]): ChildProcess {
  const root = process.getuid?.() === 0;
  return root
    ? spawn("runuser", ["-u", "postgres", "--", program, ...args], { stdio: ["ignore", "ignore", "pipe"] })
    : spawn(program, args, { stdio: ["ignore", "ignore", "pipe"] });
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, uid, gid);
    else chownSync(full, uid, gid);
  }
}

/** The last lines of a recovery's log: the directory it is in is removed after a failed restore. */
const logTail = (log: string) =>
  existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").slice(-12).join("\n") : "";

/** The uid and gid of the `postgres` user, who owns a temporary cluster when the restore runs as root. */
export function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/** Waits until a recovering cluster has ended recovery (promoted at its target); its log tells why not. */
export async function waitForPromotion(conn: PostgresConnection, log: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const inRecovery = await withClient(conn, async (c) => {
      const res = await c.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r");
      return res.rows[0].r;
    }).catch((err: Error) => err);
    if (inRecovery === false) return;
    if (inRecovery instanceof Error || Date.now() > deadline) {
      throw new Error(
        `the recovery did not end${inRecovery instanceof Error ? ` (${inRecovery.message})` : ` in ${timeoutMs} ms`}:\n${logTail(log)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface RecoveredCluster {
  /** Where clients reach it: its socket directory and port, as the cluster's own superuser. */
  readonly socketDir: string;
  readonly port: number;
  /** Stops the cluster (fast). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a private cluster from an extracted base backup in `dir/data`, replaying WAL from `dir/wal` up to
 * `at` (recovery_target_time: the last transaction committed at or before it), then promoted. It listens on
 * a socket in `dir` only, with trust authentication for local connections (nobody else can reach it).
 * Resolves once recovery has ended; throws when the WAL does not reach `at`.
 */
export async function recoverToTime(
  dir: string,
  at: Date,
  ownerUid?: { uid: number; gid: number },
): Promise<RecoveredCluster> {
  const data = path.join(dir, "data");
  const wal = path.join(dir, "wal");
  const port = await freePort();
  writeFileSync(path.join(data, "pg_hba.conf"), "local all all trust\n");
  writeFileSync(path.join(data, "recovery.signal"), "");
  // postgresql.auto.conf is read after postgresql.conf and its includes: these win over the source's settings.
  writeFileSync(
    path.join(data, "postgresql.auto.conf"),
    [
      `restore_command = 'cp ${wal}/%f %p'`,
      // PostgreSQL's timestamp syntax: a space, not ISO 8601's 'T', and an explicit UTC offset.
      `recovery_target_time = '${at.toISOString().replace("T", " ").replace("Z", "+00")}'`,
      "recovery_target_action = 'promote'",
      `port = ${port}`,
      "listen_addresses = ''",
      `unix_socket_directories = '${dir}'`,
      "archive_mode = off",
      "max_replication_slots = 20",
      "",
    ].join("\n"),
  );
  if (ownerUid) chownTree(dir, ownerUid.uid, ownerUid.gid);
  const log = path.join(dir, "recovery.log");
  const stop = async () => {
    if (!existsSync(path.join(data, "postmaster.pid"))) return;
    await completion(asOwner(pgProgram("pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]), "pg_ctl stop", []);
  };
  try {
    await completion(
      asOwner(pgProgram("pg_ctl"), ["-D", data, "-l", log, "-w", "-t", "300", "start"]),
      "pg_ctl start",
      [],
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nthe recovery's log ends:\n${logTail(log)}`);
  }
  return { socketDir: dir, port, stop };
}

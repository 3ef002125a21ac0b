// Continuous WAL archiving of a PostgreSQL source into its backup bucket: pg_receivewal streams the WAL into
// a spool directory all along, and every so many seconds the spool is shipped, each complete segment once
// (then removed from the spool) and the segment being filled again (so the archive reaches to within one
// shipping interval of now: the log's RPO).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { paginateListObjectsV2, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { logPrefix } from "../lib/backup-keys";
import type { BackupBucket } from "../lib/backup-objects";
import { spooledSegments, startWalReceiver } from "../lib/postgres-pitr";
import { redact } from "../lib/redact";
import type { BackupJob } from "./backup";

/** An archived WAL object: its segment name (without `.partial`), whether it is the one still filling. */
export interface ArchivedSegment {
  readonly key: string;
  readonly segment: string;
  readonly partial: boolean;
  readonly lastModified: Date;
}

/** The replication slot the archive streams through, one per stack. */
const slotOf = (job: BackupJob) => `cdc_wal_${job.stack.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63);

/** Ships one WAL file with its sha256 in the object's metadata (restore checks it). */
async function ship(b: BackupBucket, key: string, file: string): Promise<void> {
  const body = readFileSync(file);
  await b.client.send(
    new PutObjectCommand({
      Bucket: b.bucket,
      Key: key,
      Body: body,
      Metadata: { sha256: createHash("sha256").update(body).digest("hex") },
      ...(b.kmsKeyId ? { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: b.kmsKeyId } : {}),
    }),
  );
}

/** Ships the spool: complete segments once each (then removed locally), the partial one every time. */
export async function shipSpool(job: BackupJob, b: BackupBucket, spool: string): Promise<string[]> {
  const { complete, partial } = spooledSegments(spool);
  const shipped: string[] = [];
  for (const name of complete) {
    await ship(b, logPrefix(job.stack) + name, path.join(spool, name));
    rmSync(path.join(spool, name));
    shipped.push(name);
  }
  if (partial) {
    try {
      await ship(b, logPrefix(job.stack) + partial, path.join(spool, partial));
      shipped.push(partial);
    } catch (err) {
      // pg_receivewal completed the segment since the listing (renamed it): the next tick ships it whole.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return shipped;
}

/** Every WAL object archived for a stack, in segment order (a complete segment before its own partial). */
export async function archivedSegments(client: S3Client, bucket: string, stack: string): Promise<ArchivedSegment[]> {
  const found: ArchivedSegment[] = [];
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: logPrefix(stack) })) {
    for (const o of page.Contents ?? []) {
      const name = o.Key?.slice(logPrefix(stack).length) ?? "";
      const m = /^([0-9A-F]{24})(\.partial)?$/.exec(name);
      if (m && o.Key && o.LastModified) {
        found.push({ key: o.Key, segment: m[1], partial: !!m[2], lastModified: o.LastModified });
      }
    }
  }
  return found.sort((a, b) => a.segment.localeCompare(b.segment) || Number(a.partial) - Number(b.partial));
}

/** The sha256 an archived WAL object was shipped with, from its metadata (downloadObject returns it). */
export const shippedSha256 = (metadata: Record<string, string>): string | undefined => metadata.sha256;

export interface ArchiveOptions {
  readonly everySeconds: number;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal;
}

/**
 * Streams and ships the WAL until aborted; a shipping that fails is logged and tried again at the next tick,
 * and pg_receivewal is started again when it exits (the source restarted, the network dropped).
 */
export async function archiveWal(job: BackupJob, b: BackupBucket, options: ArchiveOptions): Promise<void> {
  const spool = job.backups.walSpool ?? path.join(tmpdir(), `cdc-wal-${job.stack}`);
  mkdirSync(spool, { recursive: true });
  const source = { ...job.source, password: job.sourcePassword };
  const secrets = [job.sourcePassword];
  let receiver = await startWalReceiver(source, spool, slotOf(job));
  options.log(`${new Date().toISOString()} log: streaming WAL through slot ${slotOf(job)} into ${spool}`);
  try {
    while (!options.signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.everySeconds * 1000);
        options.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (receiver.exitCode !== null) {
        options.log(`${new Date().toISOString()} log: pg_receivewal exited (${receiver.exitCode}); starting it again`);
        receiver = await startWalReceiver(source, spool, slotOf(job));
      }
      try {
        const shipped = await shipSpool(job, b, spool);
        if (shipped.length > 0) options.log(`${new Date().toISOString()} log: shipped ${shipped.join(", ")}`);
      } catch (err) {
        options.log(`${new Date().toISOString()} log FAILED: ${redact((err as Error).message, secrets)}`);
      }
    }
  } finally {
    receiver.kill("SIGTERM");
  }
}

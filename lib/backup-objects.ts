// Backup objects in S3: a stream uploaded in parts (never whole on disk or in memory) with its sha256 and
// size counted on the way, the manifest that describes it, and a download that checks both before the
// caller may use the bytes.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { PassThrough, Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  GetObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { z } from "zod";
import { BACKUP_KINDS, kindKeys, manifestKey, sqlServerLogKeys, type BackupKind } from "./backup-keys";

/**
 * An S3 client; `endpoint` for an S3-compatible store (path-style addressing, as such stores expect). `region`
 * defaults to AWS_REGION, else us-east-1.
 */
export function s3Client(options: { region?: string; endpoint?: string }): S3Client {
  return new S3Client({
    // Any region will do for an S3-compatible store; on AWS the client follows S3's redirect to the bucket's.
    region: options.region ?? process.env.AWS_REGION ?? "us-east-1",
    endpoint: options.endpoint,
    forcePathStyle: !!options.endpoint,
    // A bucket outside the given region (the replica, a bucket named by --bucket) is still found.
    followRegionRedirects: true,
  });
}

/** Where and how objects are written: the bucket, and a KMS key when the stack names one. */
export interface BackupBucket {
  readonly client: S3Client;
  readonly bucket: string;
  readonly kmsKeyId?: string;
}

/** A table's rows as `reconcile` counts and hashes them in the database. */
export const tableDigestSchema = z.strictObject({ rows: z.number().int().min(0), hash: z.string() });
export type TableDigest = z.infer<typeof tableDigestSchema>;

export const backupManifestSchema = z.strictObject({
  format: z.literal(1),
  kind: z.enum([...BACKUP_KINDS, "base", "target", "log"]),
  stack: z.string(),
  /** When the backup began (the dump's snapshot was taken). */
  takenAt: z.iso.datetime(),
  key: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  /** The database kind: what the dump holds and the position it is consistent at. */
  source: z
    .strictObject({
      engine: z.enum(["postgres", "sqlserver"]),
      database: z.string(),
      /**
       * The LSN the backup is consistent at (PostgreSQL: pg_current_wal_lsn in the dump's snapshot; SQL Server:
       * backupset's last_lsn, in its decimal form).
       */
      position: z.string(),
      /** A SQL Server backup's first LSN (backupset's first_lsn): where a log backup's log begins. */
      firstPosition: z.string().optional(),
      /** A base backup: the WAL segment replay starts from (the archive must hold it and every later one). */
      startSegment: z.string().optional(),
      tables: z.record(z.string(), tableDigestSchema),
    })
    .optional(),
  encryption: z.strictObject({ kmsKeyId: z.string() }).optional(),
  seconds: z.number().min(0),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export class BackupIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupIntegrityError";
  }
}

const encryption = (b: BackupBucket): Partial<PutObjectCommandInput> =>
  b.kmsKeyId ? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: b.kmsKeyId } : {};

/** Counts bytes and hashes them as they pass. */
function digesting(): { stream: Transform; result: () => { sha256: string; size: number } } {
  const hash = createHash("sha256");
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, result: () => ({ sha256: hash.digest("hex"), size }) };
}

export interface UploadOptions {
  /** Bytes per part (S3's minimum: 5 MiB). Default: 8 MiB. */
  readonly partSize?: number;
}

/**
 * Uploads a stream as `key` in parts of `partSize`, with at most two parts in memory. When the stream fails
 * half-way the multipart upload is aborted: no object and no parts are left behind.
 */
export async function uploadStream(
  b: BackupBucket,
  key: string,
  body: Readable,
  options: UploadOptions = {},
): Promise<{ sha256: string; size: number }> {
  const digest = digesting();
  const counted = new PassThrough();
  const upload = new Upload({
    client: b.client,
    params: { Bucket: b.bucket, Key: key, Body: counted, ...encryption(b) },
    partSize: options.partSize ?? 8 * 1024 * 1024,
    queueSize: 1,
    leavePartsOnError: false,
  });
  // The source's error reaches Upload through `counted` (pipeline destroys it with that error), and done()
  // settles only once Upload has aborted the multipart upload it began. Upload.abort() is not used: it makes
  // done() reject at once while a CreateMultipartUpload may still be in flight, whose upload is then aborted
  // (if at all) after this function has returned. An upload that fails ends the feeding the same way.
  const uploading = upload.done().catch((err: unknown) => {
    counted.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  });
  const [fed, uploaded] = await Promise.allSettled([pipeline(body, digest.stream, counted), uploading]);
  // Upload's reason is the source's own error when the source failed, S3's when S3 refused.
  if (uploaded.status === "rejected") throw uploaded.reason;
  if (fed.status === "rejected") throw fed.reason;
  return digest.result();
}

export async function putJson(b: BackupBucket, key: string, value: unknown): Promise<void> {
  await b.client.send(
    new PutObjectCommand({
      Bucket: b.bucket,
      Key: key,
      Body: JSON.stringify(value, null, 2),
      ContentType: "application/json",
      ...encryption(b),
    }),
  );
}

export const putManifest = (b: BackupBucket, manifest: BackupManifest): Promise<void> =>
  putJson(b, manifestKey(manifest.key), manifest);

async function getText(client: S3Client, bucket: string, key: string): Promise<string> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await res.Body?.transformToString()) ?? "";
}

/** A backup's manifest; a backup without one (or with a damaged one) cannot be verified, so it is refused. */
export async function readManifest(client: S3Client, bucket: string, key: string): Promise<BackupManifest> {
  const text = await getText(client, bucket, manifestKey(key)).catch((err: Error) => {
    throw new BackupIntegrityError(`s3://${bucket}/${manifestKey(key)}: no manifest (${err.name}): cannot be verified`);
  });
  const parsed = backupManifestSchema.safeParse(JSON.parse(text || "null"));
  if (!parsed.success || parsed.data.key !== key) {
    throw new BackupIntegrityError(`s3://${bucket}/${manifestKey(key)}: not a manifest of ${key}`);
  }
  return parsed.data;
}

/** Downloads an object to `file` as it is (the caller checks it); returns the object's metadata, from the same GET. */
export async function downloadObject(
  client: S3Client,
  bucket: string,
  key: string,
  file: string,
): Promise<Record<string, string>> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await pipeline(res.Body as Readable, createWriteStream(file, { mode: 0o600 }));
  return res.Metadata ?? {};
}

/**
 * Downloads a backup object to `file` and checks its size and sha256 against the manifest; on a mismatch the
 * file is useless and BackupIntegrityError says why. Nothing is restored from a file this has not returned.
 */
export async function downloadVerified(
  client: S3Client,
  bucket: string,
  manifest: BackupManifest,
  file: string,
): Promise<void> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: manifest.key }));
  const digest = digesting();
  await pipeline(res.Body as Readable, digest.stream, createWriteStream(file, { mode: 0o600 }));
  const { sha256, size } = digest.result();
  if (size !== manifest.size || sha256 !== manifest.sha256) {
    throw new BackupIntegrityError(
      `s3://${bucket}/${manifest.key} does not match its manifest: ${size} bytes sha256 ${sha256}, ` +
        `manifest ${manifest.size} bytes sha256 ${manifest.sha256}`,
    );
  }
}

/** A bucket backups are read from, and the template their keys follow. */
export interface BackupSource {
  readonly client: S3Client;
  readonly bucket: string;
  readonly keyTemplate: string;
}

export interface ListedBackup {
  readonly key: string;
  readonly lastModified: Date;
  readonly size: number;
}

/** Every backup object of a kind (not manifests, not verifications), oldest first. */
export function listBackups(source: BackupSource, kind: Exclude<BackupKind, "log">): Promise<ListedBackup[]> {
  return listMatching(source, kindKeys(source.keyTemplate, kind));
}

/** Every log backup of a SQL Server source's stack (`log/<stack>/<time>.trn`), oldest first. */
export function listSqlServerLogs(source: Omit<BackupSource, "keyTemplate">, stack: string): Promise<ListedBackup[]> {
  return listMatching(source, sqlServerLogKeys(stack));
}

async function listMatching(
  source: Omit<BackupSource, "keyTemplate">,
  { prefix, pattern }: { prefix: string; pattern: RegExp },
): Promise<ListedBackup[]> {
  const found: ListedBackup[] = [];
  for await (const page of paginateListObjectsV2(
    { client: source.client },
    { Bucket: source.bucket, Prefix: prefix },
  )) {
    for (const o of page.Contents ?? []) {
      if (o.Key && o.LastModified && pattern.test(o.Key)) {
        found.push({ key: o.Key, lastModified: o.LastModified, size: o.Size ?? 0 });
      }
    }
  }
  return found.sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime() || a.key.localeCompare(b.key));
}

// Backup objects on the harness's S3 server (moto): a stream uploaded in several parts arrives whole with
// the sha256 and size counted on the way; a stream that fails half-way leaves neither an object nor parts
// (the multipart upload is aborted); a download that does not match its manifest is refused.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { manifestKey } from "../../lib/backup-keys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BackupIntegrityError,
  downloadVerified,
  putManifest,
  readManifest,
  uploadStream,
  type BackupManifest,
} from "../../lib/backup-objects";
import { backupBucket, harnessS3 } from "../fixtures/backup-bucket";

const client = harnessS3();
const MiB = 1024 * 1024;
let bucket: string;
const dir = mkdtempSync(path.join(tmpdir(), "cdc-backup-objects-"));
beforeAll(async () => {
  bucket = await backupBucket(client);
});
afterAll(() => {
  client.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** `count` chunks of 1 MiB of random bytes, then (optionally) an error instead of the end. */
function chunks(count: number, failAfter?: number): { stream: Readable; sha256: () => string } {
  const hash = createHash("sha256");
  async function* generate() {
    for (let i = 0; i < count; i++) {
      if (failAfter !== undefined && i === failAfter) throw new Error("pg_dump died");
      const chunk = randomBytes(MiB);
      hash.update(chunk);
      yield chunk;
    }
  }
  return { stream: Readable.from(generate()), sha256: () => hash.digest("hex") };
}

describe("uploadStream", () => {
  it("uploads a stream in several parts, with its sha256 and size", async () => {
    const body = chunks(12);
    const object = await uploadStream({ client, bucket }, "database/multipart.dump", body.stream, {
      partSize: 5 * MiB,
    });
    expect(object).toEqual({ sha256: body.sha256(), size: 12 * MiB });
    // Three parts: S3's ETag of a multipart object ends with its part count.
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "database/multipart.dump" }));
    expect(got.ETag).toMatch(/-3"$/);
    expect(got.ContentLength).toBe(12 * MiB);
  });

  it("leaves no object and no parts when the stream fails half-way", async () => {
    const key = "database/interrupted.dump";
    await expect(uploadStream({ client, bucket }, key, chunks(12, 11).stream, { partSize: 5 * MiB })).rejects.toThrow(
      "pg_dump died",
    );
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    expect(listed.Contents ?? []).toEqual([]);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect((uploads.Uploads ?? []).filter((u) => u.Key === key)).toEqual([]);
  });

  it("reports S3's own error, and stops reading the stream, when S3 refuses the upload", async () => {
    const body = chunks(12);
    await expect(
      uploadStream({ client, bucket: "cdc-no-such-bucket" }, "database/refused.dump", body.stream, {
        partSize: 5 * MiB,
      }),
    ).rejects.toThrow(/bucket does not exist/i);
    expect(body.stream.destroyed).toBe(true);
  });

  // A fresh-clone run once found a multipart upload left behind: the stream's error arrived while
  // CreateMultipartUpload was in flight, and the upload it created was aborted only after uploadStream had
  // already returned. Here the error is made to arrive exactly then, and the create is held back a while.
  it("has finished every request and left no parts when it fails while the multipart upload is being created", async () => {
    const key = "database/interrupted-at-create.dump";
    const racing = harnessS3();
    let inFlight = 0;
    let createSent!: () => void;
    const created = new Promise<void>((resolve) => (createSent = resolve));
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        inFlight++;
        try {
          if (context.commandName === "CreateMultipartUploadCommand") {
            createSent();
            await new Promise((resolve) => setTimeout(resolve, 300));
          }
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: "initialize", name: "countRequestsInFlight" },
    );
    async function* failingAtCreate() {
      for (let i = 0; i < 6; i++) yield randomBytes(MiB);
      await created;
      throw new Error("pg_dump died");
    }
    await expect(
      uploadStream({ client: racing, bucket }, key, Readable.from(failingAtCreate()), { partSize: 5 * MiB }),
    ).rejects.toThrow("pg_dump died");
    expect(inFlight).toBe(0);
    racing.destroy();
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect((uploads.Uploads ?? []).filter((u) => u.Key === key)).toEqual([]);
  });
});

/** A database backup's manifest for an uploaded object. */
const manifestOf = (key: string, object: { sha256: string; size: number }): BackupManifest => ({
  format: 1,
  kind: "database",
  stack: "local",
  takenAt: new Date().toISOString(),
  key,
  ...object,
  seconds: 0,
});

describe("with a KMS key (backups.kmsKeyId)", () => {
  it("writes a multipart object and its manifest with SSE-KMS under that key, and reads them back", async () => {
    const kmsKeyId = "arn:aws:kms:us-east-1:123456789012:key/0b3c9e5e-4c2f-4e8a-9d2a-1f6b7e3c5d10";
    const key = "database/encrypted.dump";
    const body = chunks(6);
    const object = await uploadStream({ client, bucket, kmsKeyId }, key, body.stream, { partSize: 5 * MiB });
    const manifest: BackupManifest = { ...manifestOf(key, object), encryption: { kmsKeyId } };
    await putManifest({ client, bucket, kmsKeyId }, manifest);
    for (const written of [key, manifestKey(key)]) {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: written }));
      expect({ sse: head.ServerSideEncryption, key: head.SSEKMSKeyId }, written).toEqual({
        sse: "aws:kms",
        key: kmsKeyId,
      });
    }
    // Without one, the bucket's default encryption applies: no KMS key is asked for.
    await uploadStream({ client, bucket }, "database/plain.dump", chunks(1).stream);
    const plain = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "database/plain.dump" }));
    expect(plain.SSEKMSKeyId).toBeUndefined();
    expect(await readManifest(client, bucket, key)).toEqual(manifest);
    const file = path.join(dir, "encrypted");
    await downloadVerified(client, bucket, manifest, file);
    expect(createHash("sha256").update(readFileSync(file)).digest("hex")).toBe(body.sha256());
  });
});

describe("downloadVerified", () => {
  it("writes the bytes of an object that matches its manifest", async () => {
    const body = chunks(2);
    const key = "database/good.dump";
    const manifest = manifestOf(key, await uploadStream({ client, bucket }, key, body.stream));
    await putManifest({ client, bucket }, manifest);
    expect(await readManifest(client, bucket, key)).toEqual(manifest);
    const file = path.join(dir, "good");
    await downloadVerified(client, bucket, manifest, file);
    expect(createHash("sha256").update(readFileSync(file)).digest("hex")).toBe(body.sha256());
  });

  it("refuses an object whose bytes differ from its manifest, and one without a manifest", async () => {
    const key = "database/tampered.dump";
    const object = await uploadStream({ client, bucket }, key, chunks(1).stream);
    const manifest = manifestOf(key, { ...object, sha256: "0".repeat(64) });
    await expect(downloadVerified(client, bucket, manifest, path.join(dir, "bad"))).rejects.toThrow(
      BackupIntegrityError,
    );
    await expect(readManifest(client, bucket, key)).rejects.toThrow(/no manifest .*cannot be verified/);
  });
});

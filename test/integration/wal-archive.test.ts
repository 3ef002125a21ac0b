// The WAL archive against the harness's S3 server: a spool shipped (complete segments once, the partial one
// each time), listed in segment order, and each object's download carrying the sha256 it was shipped with
// (what a point-in-time restore checks every segment against, with no request of its own).
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadObject } from "../../lib/backup-objects";
import { parseBackupJob } from "../../ops/backup";
import { archivedSegments, shippedSha256, shipSpool } from "../../ops/wal-archive";
import { backupBucket, harnessS3 } from "../fixtures/backup-bucket";

const client = harnessS3();
const dir = mkdtempSync(path.join(tmpdir(), "cdc-wal-archive-"));
afterAll(() => {
  client.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const job = parseBackupJob(
  {
    stack: "walstack",
    source: { engine: "postgres", host: "127.0.0.1", port: 5432, database: "shop", user: "postgres" },
    tables: [{ schema: "public", name: "t", columns: [{ name: "id", type: "integer" }], primaryKey: ["id"] }],
    topicPrefix: "shop",
    connectUrl: "http://127.0.0.1:8083",
    backups: { bucket: "unused" },
  },
  { CDC_SOURCE_PASSWORD: "pw" },
);
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("the WAL archive", () => {
  let bucket: string;
  const spool = path.join(dir, "spool");
  const shipped: Record<string, string> = {
    "000000010000000000000003": "a complete segment",
    "000000010000000000000004.partial": "the segment being filled",
  };
  beforeAll(async () => {
    bucket = await backupBucket(client);
    mkdirSync(spool);
    for (const [name, body] of Object.entries(shipped)) writeFileSync(path.join(spool, name), body);
  });

  it("ships a spool and downloads each segment with the sha256 it was shipped with", async () => {
    expect(await shipSpool(job, { client, bucket }, spool)).toEqual(Object.keys(shipped));
    const archived = await archivedSegments(client, bucket, job.stack);
    expect(archived.map((s) => [s.segment, s.partial])).toEqual([
      ["000000010000000000000003", false],
      ["000000010000000000000004", true],
    ]);
    for (const s of archived) {
      const file = path.join(dir, `downloaded-${s.segment}`);
      const metadata = await downloadObject(client, bucket, s.key, file);
      const body = Buffer.from(shipped[s.key.slice(`log/${job.stack}/`.length)]);
      expect(shippedSha256(metadata)).toBe(sha256(body));
      expect(readFileSync(file)).toEqual(body);
    }
  });
});

// Where a restore to a point in time starts, against the harness's S3 server: the newest backup of the stack
// completed by then, found reading only the manifests of the backups whose keys name a time before it; and the
// refusals, naming the oldest one's completion.
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupKey, DEFAULT_KEY_TEMPLATE, manifestKey } from "../../lib/backup-keys";
import { putJson, putManifest, type BackupManifest, type BackupSource } from "../../lib/backup-objects";
import { pointInTimeStart } from "../../ops/point-in-time";
import { backupBucket, harnessS3 } from "../fixtures/backup-bucket";

const client = harnessS3();
afterAll(() => client.destroy());

/** The manifests read (GetObject of a manifest key), in order. */
const read: string[] = [];
client.middlewareStack.add(
  (next, context) => async (args) => {
    const input = args.input as { Key?: string };
    if (context.commandName === GetObjectCommand.name && input.Key?.endsWith(".manifest.json")) read.push(input.Key);
    return next(args);
  },
  { step: "initialize", name: "countManifestReads" },
);

const at = (iso: string) => new Date(iso);

describe("pointInTimeStart", () => {
  let source: BackupSource;
  const keys: Record<string, string> = {};
  /** A base backup of `stack` taken at `taken`, `seconds` long; without a manifest when `seconds` is undefined. */
  const base = async (name: string, stack: string, taken: string, seconds?: number) => {
    const key = backupKey(DEFAULT_KEY_TEMPLATE, { kind: "base", stack, at: at(taken), ext: "tar" });
    keys[name] = key;
    await putJson(source, key, { tar: name });
    if (seconds === undefined) return;
    const manifest: BackupManifest = {
      format: 1,
      kind: "base",
      stack,
      takenAt: taken,
      key,
      sha256: "0".repeat(64),
      size: 1,
      seconds,
    };
    await putManifest(source, manifest);
  };

  beforeAll(async () => {
    source = { client, bucket: await backupBucket(client), keyTemplate: DEFAULT_KEY_TEMPLATE };
    await base("first", "pitr", "2026-12-01T10:00:00.000Z", 60);
    await base("second", "pitr", "2026-12-01T11:00:00.000Z", 60);
    await base("other", "elsewhere", "2026-12-01T11:30:00.000Z", 60);
    await base("long", "pitr", "2026-12-01T11:59:00.000Z", 120);
    await base("unfinished", "pitr", "2026-12-01T12:00:00.000Z");
  });

  it("is the newest one of the stack completed by then, read newest first from the keys' times", async () => {
    read.length = 0;
    expect((await pointInTimeStart(source, "base", "pitr", at("2026-12-01T11:45:00Z"))).key).toBe(keys.second);
    expect(read).toEqual([manifestKey(keys.other), manifestKey(keys.second)]);
  });

  it("passes over a backup not completed by then, and one without a manifest", async () => {
    read.length = 0;
    expect((await pointInTimeStart(source, "base", "pitr", at("2026-12-01T12:00:30Z"))).key).toBe(keys.second);
    expect(read).toEqual([keys.unfinished, keys.long, keys.other, keys.second].map(manifestKey));
    expect((await pointInTimeStart(source, "base", "pitr", at("2026-12-01T12:01:00Z"))).key).toBe(keys.long);
  });

  it("takes only what `accept` takes", async () => {
    const start = await pointInTimeStart(
      source,
      "base",
      "pitr",
      at("2026-12-01T12:30:00Z"),
      (m) => m.key !== keys.long,
    );
    expect(start.key).toBe(keys.second);
  });

  it("refuses a time before the oldest one, naming its completion, and a stack without any", async () => {
    await expect(pointInTimeStart(source, "base", "pitr", at("2026-12-01T10:00:30Z"))).rejects.toThrow(
      "--at 2026-12-01T10:00:30.000Z is before the oldest base backup (completed 2026-12-01T10:01:00.000Z)",
    );
    await expect(pointInTimeStart(source, "base", "nowhere", at("2026-12-01T12:30:00Z"))).rejects.toThrow(
      `--at: no base backup of nowhere in s3://${source.bucket}: run \`cdc-pipeline backup --kind base\` first`,
    );
  });
});

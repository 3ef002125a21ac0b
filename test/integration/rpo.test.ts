// The RPO check against the harness's S3 server: fresh, stale and missing backups per kind; the newest
// object found across pages and by time, not by name; a bucket without versioning, lifecycle or
// replication with RTC; a bucket that cannot be read; the key template deciding what counts as a backup.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_KEY_TEMPLATE } from "../../lib/backup-keys";
import { checkRpo, formatRpo, type RpoHours } from "../../ops/rpo";
import { backupBucket, harnessS3, putBackup, templateKey as keyOf } from "../fixtures/backup-bucket";
import { CLOSED_PORT } from "../harness";

const client = harnessS3();
afterAll(() => client.destroy());
const day: RpoHours = { database: 24, files: 24, config: 24 };
const hoursLater = (h: number) => new Date(Date.now() + h * 3_600_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const keyTemplate = DEFAULT_KEY_TEMPLATE;

describe("rpo on a bucket set up as BackupStorage declares it", () => {
  let bucket: string;
  const keys = { database: keyOf("database"), files: keyOf("files"), config: keyOf("config") };
  beforeAll(async () => {
    bucket = await backupBucket(client);
    for (const key of Object.values(keys)) await putBackup(client, bucket, key);
  });

  it("is met by fresh backups of every kind", async () => {
    const report = await checkRpo({ client, bucket, rpoHours: day, keyTemplate });
    expect(report.status).toBe("ok");
    expect(report.backups.map((b) => [b.kind, b.newest?.key, b.problems])).toEqual([
      ["database", keys.database, []],
      ["files", keys.files, []],
      ["config", keys.config, []],
    ]);
    for (const b of report.backups) expect(b.ageHours).toBeLessThan(0.1);
    expect(report.bucketChecks).toEqual([
      { setting: "versioning", ok: true, detail: "enabled" },
      { setting: "lifecycle", ok: true, detail: "1 rule(s) enabled" },
      { setting: "replication", ok: true, detail: `to arn:aws:s3:::${bucket}-replica with Replication Time Control` },
    ]);
    expect(formatRpo(report)).toContain("Every RPO target is met.");
  });

  it("is missed by a kind older than its own target, 25 hours on", async () => {
    const report = await checkRpo({
      client,
      bucket,
      rpoHours: { ...day, files: 30 },
      now: hoursLater(25),
      keyTemplate,
    });
    expect(report.status).toBe("missed");
    const problems = Object.fromEntries(report.backups.map((b) => [b.kind, b.problems]));
    expect(problems).toEqual({
      database: [expect.stringMatching(/^25\.0 h old, RPO target 24 h$/)],
      files: [],
      config: [expect.stringMatching(/^25\.0 h old, RPO target 24 h$/)],
    });
    expect(formatRpo(report)).toMatch(/database .*│ 25\.0 .*│ 24 .*25\.0 h old, RPO target 24 h/);
  });
});

describe("rpo finds the newest backup", () => {
  it("by its time, on any page of the listing, and names a kind without any backup", async () => {
    const bucket = await backupBucket(client);
    // Keys that sort by stack name first: `<kind>/<stack>-<time>.<ext>`.
    const flat = "<kind>/<stack>-<time>.<ext>";
    // 1,000 older files fill the first page of the listing; the newest sorts after them.
    const older = Array.from({ length: 1000 }, (_, i) => keyOf("files", `b-${String(i).padStart(4, "0")}`, flat));
    for (let i = 0; i < older.length; i += 50) {
      await Promise.all(older.slice(i, i + 50).map((key) => putBackup(client, bucket, key)));
    }
    await putBackup(client, bucket, keyOf("database", "b", flat));
    await sleep(1100);
    // Written later, sorting earlier: the name does not decide (files/ shows the second page is read).
    const newestDatabase = keyOf("database", "a", flat);
    const newestFiles = keyOf("files", "c-newest", flat);
    await putBackup(client, bucket, newestDatabase);
    await putBackup(client, bucket, newestFiles);
    // Written last but not backups: a manifest, a verification, a key of another layout.
    await putBackup(client, bucket, `${newestDatabase}.manifest.json`);
    await putBackup(client, bucket, `verify/${newestDatabase}.json`);
    await putBackup(client, bucket, "config/app.tar.gz");

    const report = await checkRpo({ client, bucket, rpoHours: day, keyTemplate: flat });
    expect(report.backups.map((b) => b.newest?.key)).toEqual([newestDatabase, newestFiles, undefined]);
    expect(report.backups[2].problems).toEqual(["no config backup named like <kind>/<stack>-<time>.<ext>"]);
    expect(report.status).toBe("missed");
  });

  it("in a bucket laid out like the runbooks' (<yyyy>/<mm>/<dd>/<kind>/...)", async () => {
    const bucket = await backupBucket(client);
    const runbooks = "<yyyy>/<mm>/<dd>/<kind>/<stack>-<hh><mi><ss>.<ext>";
    const key = keyOf("database", "dev", runbooks);
    expect(key).toMatch(/^\d{4}\/\d{2}\/\d{2}\/database\/dev-\d{6}\.dump$/);
    await putBackup(client, bucket, key);
    const report = await checkRpo({ client, bucket, rpoHours: day, keyTemplate: runbooks });
    expect(report.backups[0].newest?.key).toBe(key);
    // The same bucket read with the default template holds no backup.
    const other = await checkRpo({ client, bucket, rpoHours: day, keyTemplate });
    expect(other.backups[0].newest).toBeUndefined();
  });
});

describe("rpo checks the bucket settings the RPO depends on", () => {
  const fresh = async (setup: Parameters<typeof backupBucket>[1]) => {
    const bucket = await backupBucket(client, setup);
    for (const kind of ["database", "files", "config"] as const) await putBackup(client, bucket, keyOf(kind));
    const report = await checkRpo({ client, bucket, rpoHours: day, keyTemplate });
    expect(report.backups.flatMap((b) => b.problems)).toEqual([]);
    return report;
  };
  const failed = (report: Awaited<ReturnType<typeof checkRpo>>) =>
    report.bucketChecks.filter((c) => !c.ok).map((c) => `${c.setting}: ${c.detail}`);

  it("misses a lifecycle configuration", async () => {
    const report = await fresh({ lifecycle: false });
    expect(report.status).toBe("missed");
    expect(failed(report)).toEqual(["lifecycle: no enabled lifecycle rule"]);
    expect(formatRpo(report)).toContain("lifecycle: MISSING, no enabled lifecycle rule");
  });

  it("misses replication, and Replication Time Control on a replication rule", async () => {
    expect(failed(await fresh({ replication: "none" }))).toEqual(["replication: no enabled replication rule"]);
    expect(failed(await fresh({ replication: "plain" }))).toEqual([
      "replication: replication without Replication Time Control and metrics",
    ]);
  });

  it("misses versioning", async () => {
    // Replication needs versioning: without it, there is no replication rule either.
    const report = await fresh({ versioning: false, replication: "none" });
    expect(failed(report)).toEqual([
      "versioning: never enabled (must be Enabled)",
      "replication: no enabled replication rule",
    ]);
  });
});

describe("rpo on a bucket it cannot read", () => {
  it("throws for a bucket that does not exist", async () => {
    await expect(checkRpo({ client, bucket: "no-such-backups", rpoHours: day, keyTemplate })).rejects.toThrow(
      /bucket/i,
    );
  });

  it("throws for an S3 endpoint that does not answer", async () => {
    const down = harnessS3(`http://127.0.0.1:${CLOSED_PORT}`);
    try {
      await expect(checkRpo({ client: down, bucket: "any", rpoHours: day, keyTemplate })).rejects.toThrow(
        /ECONNREFUSED/,
      );
    } finally {
      down.destroy();
    }
  });
});

describe("rpo with point in time (backups.schedule names log)", () => {
  it("holds the newest base backup to the database's target and the archived WAL to its minutes", async () => {
    const bucket = await backupBucket(client);
    for (const kind of ["database", "files", "config"] as const) await putBackup(client, bucket, keyOf(kind, "dev"));
    const pointInTime = { stack: "dev", engine: "postgres" as const, logMinutes: 15 };
    const missing = await checkRpo({ client, bucket, rpoHours: day, keyTemplate, pointInTime });
    expect(missing.backups.map((b) => [b.kind, b.problems])).toEqual([
      ["database", []],
      ["files", []],
      ["config", []],
      ["base", ["no base backup named like <kind>/<yyyy>/<mm>/<dd>/<stack>-<time>.<ext>"]],
      ["log", ["no log backup named like log/dev/<segment>"]],
    ]);

    await putBackup(client, bucket, "base/2026/12/01/dev-20261201T000000000Z.tar");
    await putBackup(client, bucket, "log/dev/000000010000000000000001");
    await putBackup(client, bucket, "log/dev/000000010000000000000002.partial");
    await putBackup(client, bucket, "log/other/000000010000000000000009");
    const met = await checkRpo({ client, bucket, rpoHours: day, keyTemplate, pointInTime });
    expect(met.status).toBe("ok");
    expect(met.backups.at(-1)?.newest?.key).toBe("log/dev/000000010000000000000002.partial");

    // Twenty minutes on, the log misses its 15 minutes while every other kind is within its hours.
    const late = await checkRpo({ client, bucket, rpoHours: day, keyTemplate, pointInTime, now: hoursLater(1 / 3) });
    expect(late.backups.map((b) => b.problems).flat()).toEqual([
      expect.stringMatching(/^20\.0 min old, RPO target 15 min$/),
    ]);
  });
});

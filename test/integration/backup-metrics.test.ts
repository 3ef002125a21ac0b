// A backup's metrics pushed to the harness's Pushgateway: one group per kind and stack, each of its series
// labelled with the group's job, kind and stack (which the pushed samples do not repeat).
import axios from "axios";
import { afterAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../lib/backup-objects";
import { pushBackupMetrics } from "../../ops/backup";
import { harness } from "../harness";

const pushgateway = harness.env.CDC_PUSHGATEWAY_URL;
const stack = `metrics-${Date.now().toString(36)}`;
const group = (kind: string) => `${pushgateway}/metrics/job/cdc_backup/kind/${kind}/stack/${stack}`;
afterAll(async () => {
  for (const kind of ["database", "config"]) await axios.delete(group(kind));
});

const manifest = (kind: BackupManifest["kind"], size: number): BackupManifest => ({
  format: 1,
  kind,
  stack,
  takenAt: "2026-12-01T10:00:00.000Z",
  key: `${kind}/${stack}`,
  sha256: "0".repeat(64),
  size,
  seconds: 1.5,
});

describe("pushBackupMetrics", () => {
  it("gives each kind of a stack its own series, labelled by the group", async () => {
    await pushBackupMetrics(pushgateway, manifest("database", 42));
    await pushBackupMetrics(pushgateway + "/", manifest("config", 7));
    const lines = (await axios.get<string>(`${pushgateway}/metrics`)).data
      .split("\n")
      .filter((l) => l.startsWith("cdc_backup_") && l.includes(`stack="${stack}"`))
      .sort();
    const at = Date.parse("2026-12-01T10:00:01.500Z") / 1000;
    const labels = (kind: string) => `{instance="",job="cdc_backup",kind="${kind}",stack="${stack}"}`;
    expect(lines.map((l) => [l.slice(0, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))])).toEqual([
      [`cdc_backup_duration_seconds${labels("config")}`, 1.5],
      [`cdc_backup_duration_seconds${labels("database")}`, 1.5],
      [`cdc_backup_last_success_timestamp_seconds${labels("config")}`, at],
      [`cdc_backup_last_success_timestamp_seconds${labels("database")}`, at],
      [`cdc_backup_size_bytes${labels("config")}`, 7],
      [`cdc_backup_size_bytes${labels("database")}`, 42],
    ]);
  });
});

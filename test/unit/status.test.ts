// The status screen's verdict and text, and the RPO verdict on what only AWS reports (replication status),
// from report values: the parts are read from the harness in test/e2e/ops-cli.test.ts.
import { describe, expect, it } from "vitest";
import { backupProblems, type RpoReport } from "../../ops/rpo";
import { formatStatus, sqlServerCdcState, statusOf, type StatusReport } from "../../ops/status";

const newest = { key: "database/db.sql.gz", lastModified: new Date("2026-12-01T00:00:00Z"), size: 1 };
const age = (ageHours: number, replication?: string) => ({
  kind: "database" as const,
  keyTemplate: "<kind>/<time>.<ext>",
  newest,
  ageHours,
  targetHours: 24,
  replication,
});

describe("backupProblems", () => {
  it("accepts a young backup replicated, pending within RTC's 15 minutes, or not reported", () => {
    expect(backupProblems(age(2, "COMPLETED"))).toEqual([]);
    expect(backupProblems(age(0.2, "PENDING"))).toEqual([]);
    expect(backupProblems(age(2))).toEqual([]);
  });
  it("names an old backup, a failed replication and one pending past RTC's 15 minutes", () => {
    expect(backupProblems(age(30, "FAILED"))).toEqual([
      "30.0 h old, RPO target 24 h",
      "replication to the DR region FAILED",
    ]);
    expect(backupProblems(age(0.5, "PENDING"))).toEqual(["replication still PENDING after 15 min"]);
    expect(backupProblems({ ...age(0), newest: undefined, ageHours: undefined })).toEqual([
      "no database backup named like <kind>/<time>.<ext>",
    ]);
  });
});

const running = {
  state: "RUNNING" as const,
  workerId: "w:8083",
  tasks: [{ id: 0, state: "RUNNING" as const, workerId: "w:8083" }],
  traces: [],
};
const healthy: Omit<StatusReport, "status"> = {
  stack: "dev",
  connectors: {
    value: [
      { name: "dev-source", status: running },
      { name: "dev-sink", status: running },
    ],
  },
  cdc: { value: { engine: "postgres", facts: ["publication p: dbo.t", "slot s: active"], problems: [] } },
  targetRows: { value: { "dbo.t": 12 } },
  backups: { value: undefined },
  deadLetters: { value: { topic: "dev.dlq", depth: 0 } },
};
const rpo = (status: RpoReport["status"]): RpoReport => ({
  bucket: "backups",
  checkedAt: new Date(),
  status,
  backups: [{ ...age(status === "ok" ? 1 : 30), problems: status === "ok" ? [] : ["30.0 h old, RPO target 24 h"] }],
  bucketChecks: [{ setting: "lifecycle", ok: status === "ok", detail: "" }],
});

describe("statusOf", () => {
  it("is ok when everything runs and is in place", () => {
    expect(statusOf(healthy)).toBe("ok");
    expect(statusOf({ ...healthy, backups: { value: rpo("ok") } })).toBe("ok");
  });
  it("is degraded by a paused or missing connector, a failed task or none, a CDC problem, a missed RPO", () => {
    const paused = { ...running, state: "PAUSED" as const };
    const failedTask = { ...running, tasks: [{ id: 0, state: "FAILED" as const, workerId: "w" }] };
    const noTasks = { ...running, tasks: [] };
    for (const status of [paused, failedTask, noTasks, undefined]) {
      expect(statusOf({ ...healthy, connectors: { value: [{ name: "dev-sink", status }] } })).toBe("degraded");
    }
    const cdc = { value: { engine: "postgres" as const, facts: [], problems: ["replication slot s is missing"] } };
    expect(statusOf({ ...healthy, cdc })).toBe("degraded");
    expect(statusOf({ ...healthy, backups: { value: rpo("missed") } })).toBe("degraded");
  });
  it("is unreadable when any part could not be read, whatever the others say", () => {
    expect(statusOf({ ...healthy, targetRows: { error: "connection refused" } })).toBe("unreadable");
    expect(statusOf({ ...healthy, backups: { error: "NoSuchBucket" } })).toBe("unreadable");
    expect(statusOf({ ...healthy, deadLetters: { error: "connect ECONNREFUSED 127.0.0.1:9092" } })).toBe("unreadable");
    // Dead letters are shown, not judged: a replayed letter stays in the topic.
    expect(statusOf({ ...healthy, deadLetters: { value: { topic: "dev.dlq", depth: 3 } } })).toBe("ok");
  });
});

describe("sqlServerCdcState", () => {
  const ci = {
    schema: "dbo",
    table: "t",
    captureInstance: "dbo_t",
    startLsn: "0000002d00000af80003",
    columns: ["id"],
    role: null,
    supportsNetChanges: false,
  };
  const facts = { cdcEnabled: true, agentRunning: true, captureInstances: [ci], jobs: {}, connectorLoginExists: false };
  it("has no problem when CDC is on, Agent runs and every table is captured", () => {
    expect(sqlServerCdcState(facts, ["dbo.t"])).toEqual({
      engine: "sqlserver",
      facts: ["CDC on the database: enabled", "SQL Server Agent: running", "dbo.t: dbo_t"],
      problems: [],
    });
  });
  it("names CDC disabled, Agent stopped and an uncaptured table", () => {
    expect(sqlServerCdcState({ ...facts, captureInstances: [] }, ["dbo.t"]).problems).toEqual(["not captured: dbo.t"]);
    expect(sqlServerCdcState({ ...facts, cdcEnabled: false, agentRunning: false }, ["dbo.t"]).problems).toEqual([
      "CDC is disabled on the database",
      "SQL Server Agent is not running: nothing is captured",
    ]);
  });
});

describe("formatStatus", () => {
  it("shows every part on one screen, and a part that cannot be read beside the others", () => {
    const text = formatStatus({
      ...healthy,
      status: "unreadable",
      targetRows: { error: "connect ECONNREFUSED 127.0.0.1:9" },
      backups: { value: rpo("missed") },
    });
    expect(text.split("\n")[0]).toBe("stack dev: unreadable");
    expect(text).toMatch(/│ dev-source\s+│ RUNNING\s+│ 0 RUNNING\s+│ w:8083/);
    const spread = { ...running, tasks: [{ ...running.tasks[0], workerId: "w2:8083" }] };
    expect(
      formatStatus({ ...healthy, status: "ok", connectors: { value: [{ name: "dev-sink", status: spread }] } }),
    ).toMatch(/│ dev-sink\s+│ RUNNING\s+│ 0 RUNNING on w2:8083\s+│ w:8083/);
    expect(text).toContain("source CDC (postgres): ok\n  publication p: dbo.t\n  slot s: active");
    expect(text).toContain("target rows cannot be read: connect ECONNREFUSED 127.0.0.1:9");
    expect(text).toContain(
      "backups s3://backups: database 30.0 h (RPO 24 h) 30.0 h old, RPO target 24 h, lifecycle MISSING",
    );
  });
  it("says where backups would come from when the stack has none", () => {
    expect(formatStatus({ ...healthy, status: "ok" })).toContain("backups: no backup bucket");
  });
  it("shows the dead-letter topic's depth, and why it was not read", () => {
    expect(formatStatus({ ...healthy, status: "ok" })).toContain("dead letters: 0 in dev.dlq");
    expect(
      formatStatus({ ...healthy, status: "ok", deadLetters: { value: { topic: "dev.dlq", depth: 2 } } }),
    ).toContain("dead letters: 2 in dev.dlq (cdc-pipeline dlq list shows them)");
    expect(formatStatus({ ...healthy, status: "ok", deadLetters: { value: undefined } })).toContain(
      "dead letters: not read (kafkaConnect.bootstrapServers is not set)",
    );
  });
});

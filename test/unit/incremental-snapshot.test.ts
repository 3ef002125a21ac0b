// The incremental snapshot's signal, the notifications it waits for, and the checks of what resync and
// repair put in a signal. The notifications here are scripted; test/integration/incremental-snapshot.test.ts
// has the real connector send them.
import { describe, expect, it } from "vitest";
import { parseNotification, type DebeziumNotification, type NotificationWatch } from "../../lib/debezium-notifications";
import { awaitSnapshot, dataCollection, javaQuoted, snapshotSignal } from "../../lib/incremental-snapshot";
import { keysCondition } from "../../lib/repair";
import { conditionShapeProblem } from "../../ops/resync";

/** A watch that hands out the given notifications, then nothing (as at a deadline). */
function scripted(notifications: Partial<DebeziumNotification>[]): NotificationWatch {
  const queue = notifications.map((n) => ({
    id: "x",
    aggregateType: "Incremental Snapshot",
    type: "",
    additionalData: {},
    ...n,
  }));
  return { next: () => Promise.resolve(queue.shift()), close: () => Promise.resolve() };
}

const scan = (id: string, table: string, status = "SUCCEEDED", rows = "3") => ({
  id,
  type: "TABLE_SCAN_COMPLETED",
  additionalData: { scanned_collection: table, status, total_rows_scanned: rows },
});

describe("snapshotSignal", () => {
  it("asks for an incremental snapshot of the tables, named as literal patterns, with their conditions", () => {
    const signal = snapshotSignal(
      { dataCollections: ["inventory.customers"], conditions: { "inventory.customers": "id > 5" } },
      "s1",
    );
    expect(signal).toMatchObject({ id: "s1", type: "execute-snapshot" });
    expect(JSON.parse(signal.data)).toEqual({
      type: "incremental",
      "data-collections": ["\\Qinventory.customers\\E"],
      "additional-conditions": [{ "data-collection": "\\Qinventory.customers\\E", filter: "id > 5" }],
    });
    expect(JSON.parse(snapshotSignal({ dataCollections: ["a.b"] }).data)).not.toHaveProperty("additional-conditions");
    expect(snapshotSignal({ dataCollections: ["a.b"] }).id).toMatch(/^cdc-pipeline-[0-9a-f-]{36}$/);
  });

  it("quotes a name as Java's Pattern.quote does, \\E included", () => {
    expect(javaQuoted("a.b$")).toBe("\\Qa.b$\\E");
    expect(javaQuoted("x\\Ey")).toBe("\\Qx\\E\\\\E\\Qy\\E");
  });

  it("names tables as each connector does: schema.table, and the database first on SQL Server", () => {
    expect(dataCollection({ engine: "postgres" }, { schema: "s", name: "t" })).toBe("s.t");
    expect(dataCollection({ engine: "sqlserver", database: "db" }, { schema: "dbo", name: "t" })).toBe("db.dbo.t");
  });
});

describe("parseNotification", () => {
  const value = {
    id: "s1",
    aggregate_type: "Incremental Snapshot",
    type: "COMPLETED",
    additional_data: { a: "b" },
    timestamp: 1,
  };
  it("reads the JsonConverter's envelope and a plain value alike", () => {
    const expected = { id: "s1", aggregateType: "Incremental Snapshot", type: "COMPLETED", additionalData: { a: "b" } };
    expect(parseNotification(JSON.stringify({ schema: {}, payload: value }))).toEqual(expected);
    expect(parseNotification(Buffer.from(JSON.stringify(value)))).toEqual(expected);
  });
  it("skips what is not a notification", () => {
    expect(parseNotification(null)).toBeUndefined();
    expect(parseNotification("not json")).toBeUndefined();
    expect(parseNotification("null")).toBeUndefined();
    expect(parseNotification(JSON.stringify({ id: "s1" }))).toBeUndefined();
    expect(parseNotification(JSON.stringify({ schema: {}, payload: null }))).toBeUndefined();
  });
});

describe("awaitSnapshot", () => {
  it("returns each table's scan once the snapshot its signal started has completed", async () => {
    const watch = scripted([
      scan("earlier", "s.a"), // another snapshot's, before this signal was taken: not ours
      { id: "s1", type: "STARTED" },
      scan("s1", "s.a", "SUCCEEDED", "7"),
      scan("s1", "s.other"),
      { id: "s1", type: "COMPLETED" },
    ]);
    expect(await awaitSnapshot(watch, "s1", ["s.a", "s.b"], 1000)).toEqual([
      { dataCollection: "s.a", status: "SUCCEEDED", rows: 7 },
      { dataCollection: "s.b", status: "NOT_SCANNED", rows: 0 },
    ]);
  });

  it("takes a COMPLETED carrying a later signal's id, which Debezium gives the rest of a running snapshot", async () => {
    const watch = scripted([
      { id: "s1", type: "IN_PROGRESS" },
      scan("s2", "s.a", "SQL_EXCEPTION", "0"),
      { id: "s2", type: "COMPLETED" },
    ]);
    expect(await awaitSnapshot(watch, "s1", ["s.a"], 1000)).toEqual([
      { dataCollection: "s.a", status: "SQL_EXCEPTION", rows: 0 },
    ]);
  });

  it("fails on ABORTED, and at the deadline saying whether the connector took the signal", async () => {
    await expect(awaitSnapshot(scripted([{ id: "s1", type: "ABORTED" }]), "s1", ["s.a"], 1000)).rejects.toThrow(
      "the incremental snapshot of s.a was stopped (signal s1)",
    );
    await expect(awaitSnapshot(scripted([{ id: "other", type: "COMPLETED" }]), "s1", ["s.a"], 2000)).rejects.toThrow(
      "no notification that the incremental snapshot of s.a finished within 2 s (signal s1, not yet taken by the connector)",
    );
    // Other aggregates (the initial snapshot's) are not the incremental snapshot's.
    await expect(
      awaitSnapshot(
        scripted([
          { id: "s1", type: "STARTED" },
          { id: "s1", aggregateType: "Initial Snapshot", type: "COMPLETED" },
        ]),
        "s1",
        ["s.a"],
        1000,
      ),
    ).rejects.toThrow("(signal s1, taken by the connector)");
  });
});

describe("conditionShapeProblem", () => {
  it("accepts one condition, quotes and brackets included", () => {
    for (const ok of [
      "id > 5",
      "name = 'a;b--c' AND (x IN (1, 2))",
      '"odd;col" = 1',
      "[odd)col] = 1",
      "note = 'it''s'",
    ]) {
      expect(conditionShapeProblem(ok), ok).toBeUndefined();
    }
  });
  it("refuses statements, comments, unbalanced parentheses and empty text", () => {
    expect(conditionShapeProblem("id > 5; DROP TABLE t")).toBe("holds ';': give one condition, not statements");
    expect(conditionShapeProblem("id > 5 -- all")).toBe("holds a comment: remove it");
    expect(conditionShapeProblem("id > 5 /* all */")).toBe("holds a comment: remove it");
    expect(conditionShapeProblem("id > 5) OR (1 = 1")).toBe("has a ')' without its '('");
    expect(conditionShapeProblem("(id > 5")).toBe("has a '(' without its ')'");
    expect(conditionShapeProblem("name = 'a")).toBe("has an unclosed '");
    expect(conditionShapeProblem("  ")).toMatch(/^is empty/);
  });
});

describe("keysCondition", () => {
  const table = {
    source: { schema: "s", name: "t" },
    target: { schema: "s", name: "t" },
    columns: [
      { name: "id", type: "integer" },
      { name: "code", type: "text" },
    ],
    primaryKey: ["id", "code"],
  };
  it("selects rows by the canonical key text reconcile names them by, quoted for each engine", () => {
    expect(keysCondition({ engine: "postgres" }, table, ["1|a", "2|it's"])).toBe(
      `coalesce(replace(replace("id"::text, '\\', '\\\\'), '|', '\\|'), '\\N') || '|' || coalesce(replace(replace("code"::text, '\\', '\\\\'), '|', '\\|'), '\\N') IN ('1|a', '2|it''s')`,
    );
    expect(keysCondition({ engine: "sqlserver" }, table, ["1|a"])).toMatch(/^COALESCE\(.*\) IN \(N'1\|a'\)$/);
  });
});

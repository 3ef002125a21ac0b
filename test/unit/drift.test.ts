// The drift report from the CLI's engine events: a recording of `pulumi preview --refresh` on the local stack
// after four changes by hand, and small synthetic steps for the other cases.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { driftFromEvents, formatDrift, type EngineEvent } from "../../ops/drift";

const recorded = (name: string): EngineEvent[] =>
  readFileSync(path.join(__dirname, "../recordings/drift", name), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as EngineEvent);

const CONNECTOR = "pulumi-nodejs:dynamic/cdc-pipeline:KafkaConnector";
const urn = (name: string) => `urn:pulumi:dev::cdc-pipeline::${CONNECTOR}::${name}`;

/** A refresh that read `live` where `deployed` was recorded, then the step the preview plans. */
function events(
  name: string,
  deployed: Record<string, unknown> | undefined,
  live: Record<string, unknown> | undefined,
  planned: { op: string; inputs: Record<string, unknown> },
): EngineEvent[] {
  const refresh = {
    op: "refresh",
    urn: urn(name),
    type: CONNECTOR,
    old: deployed && { outputs: deployed },
    new: live && { outputs: live },
  };
  const step = {
    op: planned.op,
    urn: urn(name),
    type: CONNECTOR,
    old: live && { outputs: live },
    new: { inputs: planned.inputs },
  };
  return [{ resOutputsEvent: { metadata: refresh } }, { resourcePreEvent: { metadata: step } }];
}

describe("driftFromEvents", () => {
  it("names each drifted resource and field of a real refresh preview, live against declared", () => {
    const drift = driftFromEvents(recorded("four-kinds.jsonl"));
    const byName = Object.fromEntries(drift.map((r) => [r.name, r]));
    expect(Object.keys(byName).sort()).toEqual(["pipeline-cdc", "pipeline-schema", "pipeline-sink", "pipeline-source"]);
    expect(byName["pipeline-cdc"]).toMatchObject({
      kind: "changed outside Pulumi",
      op: "update",
      fields: [
        {
          path: "publishedTables",
          live: ["inventory.customers"],
          expected: ["inventory.customers", "inventory.orders"],
          expectedFrom: "last deployed",
        },
      ],
    });
    expect(byName["pipeline-schema"].fields).toEqual([
      {
        path: "live[customers].columns[email].type",
        live: "character varying(200)",
        expected: "text",
        expectedFrom: "last deployed",
      },
    ]);
    expect(byName["pipeline-sink"]).toMatchObject({ kind: "deleted outside Pulumi", op: "create", fields: [] });
    // The connector's topics grow in normal operation: not reported.
    expect(byName["pipeline-source"].fields).toEqual([
      { path: "config.snapshot.mode", live: "no_data", expected: "initial", expectedFrom: "declared" },
      { path: "config.heartbeat.interval.ms", live: "5000", expected: undefined, expectedFrom: "declared" },
    ]);
  });

  it("hides credentials and their hashes, and any value the CLI masked", () => {
    const drift = driftFromEvents(
      events(
        "hidden",
        {
          config: { "database.password": "old-pw", "tasks.max": "1" },
          sensitiveHash: "aaa",
          token: { ciphertext: "[secret]" },
        },
        {
          config: { "database.password": "new-pw", "tasks.max": "1" },
          sensitiveHash: "bbb",
          token: { ciphertext: "[secret]", x: 1 },
        },
        { op: "update", inputs: { config: { "tasks.max": 1 } } },
      ),
    );
    expect(drift[0].fields.map((f) => [f.path, f.live, f.expected])).toEqual([
      ["config.database.password", "[secret]", undefined],
      ["sensitiveHash", "[secret]", "[secret]"],
      ["token.x", "[secret]", undefined],
    ]);
    expect(JSON.stringify(drift)).not.toMatch(/old-pw|new-pw|aaa|bbb/);
  });

  it("compares scalars as text, and reports a change that only the program made", () => {
    const same = { config: { "tasks.max": "1" }, state: "running" };
    const declared = driftFromEvents(
      events("declared", same, same, { op: "update", inputs: { config: { "tasks.max": 2 }, state: "running" } }),
    );
    expect(declared[0]).toMatchObject({
      kind: "differs from the program",
      fields: [{ path: "config.tasks.max", live: "1", expected: 2, expectedFrom: "declared" }],
    });
    expect(
      driftFromEvents(events("fine", same, { ...same, config: { "tasks.max": 1 } }, { op: "same", inputs: same })),
    ).toEqual([]);
    const fresh = driftFromEvents(events("fresh", undefined, undefined, { op: "create", inputs: same }));
    expect(fresh[0]).toMatchObject({ kind: "not deployed", op: "create" });
  });

  it("tells a state written by older provider code from drift", () => {
    const state = { state: "running", providerVersion: 1 };
    const step = (stored: string) => ({
      resourcePreEvent: {
        metadata: {
          op: "update",
          urn: urn("sink"),
          type: CONNECTOR,
          old: { inputs: { state: "running", __provider: stored }, outputs: state },
          new: { inputs: { state: "running", __provider: "shim" } },
        },
      },
    });
    expect(driftFromEvents([step("the whole provider")])).toMatchObject([
      { name: "sink", kind: "stored provider code outdated", fields: [] },
    ]);
    expect(driftFromEvents([step("shim")])).toMatchObject([{ kind: "differs from the program" }]);
  });

  it("lists the resources by name, whatever order the engine ran their steps in", () => {
    const changed = (name: string) =>
      events(name, { state: "running" }, { state: "paused" }, { op: "update", inputs: { state: "running" } });
    const drift = driftFromEvents([...changed("sink"), ...changed("cdc"), ...changed("source")]);
    expect(drift.map((r) => r.name)).toEqual(["cdc", "sink", "source"]);
  });
});

describe("formatDrift", () => {
  it("prints one line per field, the repair, and tells an error from drift", () => {
    const resources = driftFromEvents(recorded("four-kinds.jsonl"));
    const text = formatDrift({ stack: "local", status: "drift", resources, cliExitCode: 7, seconds: 8.2 });
    expect(text).toContain("Drift on stack 'local': 4 resource(s) differ (8.2 s).");
    expect(text).toContain(`KafkaConnector 'pipeline-sink': deleted outside Pulumi (pulumi up would create it)`);
    expect(text).toContain(`config.snapshot.mode: live "no_data", declared "initial"`);
    expect(text).toContain(`config.heartbeat.interval.ms: live "5000", declared (absent)`);
    expect(text).toContain("Repair: pulumi up --refresh");
    const error = formatDrift({
      stack: "local",
      status: "error",
      resources: [],
      cliExitCode: 1,
      seconds: 1,
      error: "error: boom",
    });
    expect(error).toMatch(/could not run \(pulumi exited 1\).*this is an error, not drift:\nerror: boom/s);
    expect(formatDrift({ stack: "local", status: "clean", resources: [], cliExitCode: 0, seconds: 7 })).toMatch(
      /^No drift/,
    );
  });
});

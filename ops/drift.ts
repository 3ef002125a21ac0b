// The drift check: `pulumi preview --refresh --expect-no-changes` with the real CLI, reported per resource
// and field. The refresh reads every resource's live state; a resource the preview then wants to change has
// drifted (or carries a change not deployed yet). The CLI's engine events (--event-log) say which: the
// refresh step holds the state as last deployed and as it is live, the planned step what is declared.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** What the CLI exits with when --expect-no-changes finds changes (pkg/cmd/pulumi/cmd/exit_codes.go). */
export const CLI_EXIT_CHANGES = 7;

export interface FieldDrift {
  /** Path of the field in the resource's outputs, e.g. `config.tasks.max` or `live[0].columns[2].type`. */
  readonly path: string;
  /** Its value now, as read live (undefined: absent). Hidden values read "[secret]". */
  readonly live: unknown;
  /** What it should be: the declared input at the same path when there is one, else the value last deployed. */
  readonly expected: unknown;
  readonly expectedFrom: "declared" | "last deployed";
}

export interface ResourceDrift {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** What `pulumi up` would do about it: update, replace, create (it is gone), delete. */
  readonly op: string;
  /**
   * changed outside Pulumi: the refresh found live values other than those last deployed;
   * deleted outside Pulumi: the refresh found it gone;
   * differs from the program: the state (already refreshed, or the program changed) is not what is declared;
   * not deployed: the program declares it, the stack has never had it.
   */
  readonly kind:
    | "changed outside Pulumi"
    | "deleted outside Pulumi"
    | "differs from the program"
    | "not deployed"
    | "stored provider code outdated";
  /** The fields that differ. */
  readonly fields: FieldDrift[];
}

export interface DriftReport {
  readonly stack: string;
  readonly status: "clean" | "drift" | "error";
  readonly resources: ResourceDrift[];
  /** For status "error": the CLI's error lines. */
  readonly error?: string;
  readonly cliExitCode: number | null;
  readonly seconds: number;
}

/** The part of an engine event the check reads. */
interface StepMetadata {
  op: string;
  urn: string;
  type: string;
  old?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> } | null;
  new?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> } | null;
}
export interface EngineEvent {
  resourcePreEvent?: { metadata: StepMetadata };
  resOutputsEvent?: { metadata: StepMetadata };
}

/** Steps that change nothing. */
const QUIET_OPS = new Set(["same", "refresh", "read", "discard"]);
/** The serialized provider of a dynamic resource and the version of the code that wrote its state. */
const SKIPPED_KEYS = new Set(["__provider", "providerVersion"]);
/** Outputs that change in normal operation, not by hand (a connector's topics grow as tables get rows). */
const VOLATILE: Record<string, readonly string[]> = {
  "pulumi-nodejs:dynamic/cdc-pipeline:KafkaConnector": ["topics", "workerId"],
};
/** Values hidden whatever they hold: credentials, and hashes of them. */
const HIDDEN_KEY = /password|passwd|secret|token|credential|Hash$/i;
const HIDDEN = "[secret]";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

type Scalar = string | number | boolean;
const isScalar = (v: unknown): v is Scalar => ["string", "number", "boolean"].includes(typeof v);

/** Scalars compare as text: the worker returns "1" for a declared 1. */
const sameScalar = (a: unknown, b: unknown) => a === b || (isScalar(a) && isScalar(b) && String(a) === String(b));

/** A key, or an array position shown by the element's name when it has one (a table, a column). */
type Segment = string | { index: number; label: string };

const isScalarList = (v: unknown[]) => v.every((x) => !isObject(x) && !Array.isArray(x));

/** Where two outputs differ: the paths of the differing leaves, depth first. Lists of scalars are leaves. */
function differences(before: unknown, after: unknown, at: Segment[], out: Segment[][]): void {
  if (Array.isArray(before) && Array.isArray(after) && !(isScalarList(before) && isScalarList(after))) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const named = [before[i], after[i]].find((x) => isObject(x) && typeof x.name === "string") as
        { name: string } | undefined;
      differences(before[i], after[i], [...at, { index: i, label: named?.name ?? String(i) }], out);
    }
  } else if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (!SKIPPED_KEYS.has(key)) differences(before[key], after[key], [...at, key], out);
    }
  } else if (!sameScalar(before, after) && JSON.stringify(before) !== JSON.stringify(after)) {
    out.push(at);
  }
}

const valueAt = (root: unknown, at: Segment[]): unknown =>
  at.reduce<unknown>((value, segment) => {
    if (typeof segment === "string") return isObject(value) ? value[segment] : undefined;
    return Array.isArray(value) ? (value[segment.index] as unknown) : undefined;
  }, root);

/** `config.tasks.max`, `live[customers].columns[email].type`. */
const pathText = (at: Segment[]) =>
  at.map((s, i) => (typeof s === "string" ? (i === 0 ? s : `.${s}`) : `[${s.label}]`)).join("");

const shown = (at: Segment[], value: unknown) =>
  value !== undefined &&
  (at.some((s) => typeof s === "string" && HIDDEN_KEY.test(s)) || JSON.stringify(value).includes(HIDDEN))
    ? HIDDEN
    : value;

/** The drifted resources of a `preview --refresh`, from its engine events. Pure: unit-tested on recordings. */
export function driftFromEvents(events: EngineEvent[]): ResourceDrift[] {
  const refreshed = new Map<string, StepMetadata>();
  const planned = new Map<string, StepMetadata>();
  for (const event of events) {
    const step = event.resOutputsEvent?.metadata ?? event.resourcePreEvent?.metadata;
    if (!step) continue;
    if (step.op === "refresh") {
      if (event.resOutputsEvent) refreshed.set(step.urn, step);
    } else if (!QUIET_OPS.has(step.op) && !planned.has(step.urn)) {
      planned.set(step.urn, step);
    }
  }
  const drifted = [...planned.values()].map((step): ResourceDrift => {
    const refresh = refreshed.get(step.urn);
    const deployed = refresh?.old?.outputs;
    const live = refresh?.new?.outputs;
    const declared = step.new?.inputs ?? {};
    const volatile = VOLATILE[step.type] ?? [];
    const base = { urn: step.urn, type: step.type, name: step.urn.split("::").pop() ?? step.urn, op: step.op };
    if (refresh && deployed && !live) return { ...base, kind: "deleted outside Pulumi" as const, fields: [] };

    // An input is compared with what is declared (absent included); an output with its last deployed value.
    const field = (at: Segment[], now: unknown, before: unknown): FieldDrift => {
      const isInput = (at[0] as string) in declared;
      return {
        path: pathText(at),
        live: shown(at, valueAt(now, at)),
        expected: shown(at, isInput ? valueAt(declared, at) : valueAt(before, at)),
        expectedFrom: isInput ? "declared" : "last deployed",
      };
    };
    const changed: Segment[][] = [];
    if (deployed && live) differences(deployed, live, [], changed);
    const fields = changed.filter((at) => !volatile.includes(at[0] as string)).map((at) => field(at, live, deployed));
    if (fields.length > 0) return { ...base, kind: "changed outside Pulumi" as const, fields };

    // Nothing changed since the state was written: the state itself differs from the program (a refresh
    // or a failed `up` recorded the live values, or the program changed).
    const recorded = step.old?.outputs;
    if (!recorded) return { ...base, kind: "not deployed" as const, fields: [] };
    // Inputs the state keeps (write-only ones, such as secrets kept only as a hash, cannot be compared).
    const kept = Object.keys(declared).filter((key) => key in recorded);
    const differing: Segment[][] = [];
    differences(
      Object.fromEntries(kept.map((key) => [key, recorded[key]])),
      Object.fromEntries(kept.map((key) => [key, declared[key]])),
      [],
      differing,
    );
    // A state written by an older provider version or shim (README, "Dynamic providers"): `up` rewrites it
    // without touching anything live. Reported on its own, so that nobody looks for a change by hand.
    const storedCode = step.old?.inputs?.__provider;
    if (differing.length === 0 && storedCode !== undefined && storedCode !== step.new?.inputs?.__provider) {
      return { ...base, kind: "stored provider code outdated" as const, fields: [] };
    }
    return {
      ...base,
      kind: "differs from the program" as const,
      fields: differing.map((at) => field(at, recorded, recorded)),
    };
  });
  // The engine runs steps in parallel, so their events come in another order at each run; the report's does not.
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return drifted.sort((a, b) => byText(a.name, b.name) || byText(a.urn, b.urn));
}

const text = (value: unknown) => (value === undefined ? "(absent)" : JSON.stringify(value));

/** The report for people: one block per drifted resource, one line per field. */
export function formatDrift(report: DriftReport): string {
  const took = `(${report.seconds.toFixed(1)} s)`;
  if (report.status === "clean") return `No drift on stack '${report.stack}': live state matches the program ${took}.`;
  if (report.status === "error") {
    return (
      `The drift check of stack '${report.stack}' could not run (pulumi exited ${report.cliExitCode}) ${took}; ` +
      `this is an error, not drift:\n${report.error ?? ""}`
    );
  }
  const lines = [`Drift on stack '${report.stack}': ${report.resources.length} resource(s) differ ${took}.`];
  for (const r of report.resources) {
    lines.push(`  ${r.type.split(":").pop()} '${r.name}': ${r.kind} (pulumi up would ${r.op} it)`);
    for (const f of r.fields) {
      lines.push(`      ${f.path}: live ${text(f.live)}, ${f.expectedFrom} ${text(f.expected)}`);
    }
  }
  lines.push(
    "Repair: pulumi up --refresh (reads the live state, then puts the declared one back). " +
      "Accept: change the program or its config to match.",
  );
  return lines.join("\n");
}

export interface DriftCheckOptions {
  readonly stack: string;
  /** The project directory. Default: the current directory. */
  readonly cwd?: string;
  /** The CLI's environment (backend, passphrase, PATH). Default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** The CLI to run. Default: pulumi on PATH. */
  readonly pulumi?: string;
}

/** What the CLI said went wrong: its `error:` messages, each once (the CLI masks secrets in what it prints). */
function errorLines(output: string): string {
  const messages = [...output.matchAll(/\berror: (.*)$/gm)].map((m) => `error: ${m[1].trim()}`);
  return messages.length > 0 ? [...new Set(messages)].join("\n") : output.trim().split("\n").slice(-10).join("\n");
}

/**
 * Runs the refresh preview and reports. Never throws for drift or for the CLI's errors: see status.
 *
 * It spawns the CLI rather than calling the Automation API's `stack.preview({ refresh: true, expectNoChanges:
 * true, onEvent })`. Tried with @pulumi/pulumi 3.259 and the project's CLI 3.259.0 on a throwaway stack (file
 * backend, three dynamic resources: one edited, one deleted, one paused by hand), both ways in a row: the API's
 * engine events are the same objects as this event log's (the same 50 events, equal but for sequence and
 * timestamp; only their order changed, as it does between two runs of the CLI), its onOutput/onError give the
 * same text, so driftFromEvents and errorLines make the same report. What the API loses is the CLI's exit code,
 * the one thing that tells drift (7) from an error (1; 6 for an unknown stack): every non-zero exit rejects with
 * a CommandError whose only public part is its message; its `commandResult` is private in the typings and its
 * `code` is -2 whatever the CLI exited with (automation/cmd.js: execa rejects on a non-zero exit before the SDK
 * reads the code, and its catch records -2). The real code survives only in that private result's execa error or
 * in the text of execa's message ("Command failed with exit code 7"). Telling drift from an error by either would
 * rest on internals of the SDK and of a library under it, and taking an error for drift, or the reverse, is what
 * this check must never do. The API would also run `pulumi stack select` (Stack.select), changing the caller's
 * selected stack, which a read-only check has no business doing.
 */
export async function checkDrift(options: DriftCheckOptions): Promise<DriftReport> {
  const dir = mkdtempSync(path.join(tmpdir(), "cdc-drift-"));
  const eventLog = path.join(dir, "events.jsonl");
  const start = performance.now();
  try {
    const args = ["preview", "--stack", options.stack, "--refresh", "--expect-no-changes", "--non-interactive"];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(options.pulumi ?? "pulumi", [...args, "--color", "never", "--event-log", eventLog], {
        cwd: options.cwd,
        // --event-log is one of the CLI's debug flags (the Automation API sets the same).
        env: { ...(options.env ?? process.env), PULUMI_DEBUG_COMMANDS: "true" },
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.on("error", reject);
      child.on("close", (exit) => resolve({ code: exit, output }));
    });
    const seconds = (performance.now() - start) / 1000;
    const base = { stack: options.stack, cliExitCode: code, seconds };
    if (code === 0) return { ...base, status: "clean", resources: [] };
    if (code !== CLI_EXIT_CHANGES) return { ...base, status: "error", resources: [], error: errorLines(output) };
    const events = readFileSync(eventLog, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as EngineEvent);
    return { ...base, status: "drift", resources: driftFromEvents(events) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The drift command's own exit codes. */
export const DRIFT_EXIT = { clean: 0, drift: 1, error: 2 } as const;

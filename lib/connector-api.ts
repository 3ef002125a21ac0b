// One connector's lifecycle over the Kafka Connect REST API, as plain functions taking an axios client.
import type { AxiosInstance } from "axios";
import { call, httpStatusOf } from "./connect-rest";
import { redact } from "./redact";
import { changedKeys, type ConnectorConfig } from "./connector-config";

/** The states a connector can be declared in and held at. */
export const DESIRED_STATES = ["running", "paused", "stopped"] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];
export type RuntimeState = "RUNNING" | "PAUSED" | "STOPPED" | "FAILED" | "UNASSIGNED" | "RESTARTING";

export interface TaskStatus {
  id: number;
  state: RuntimeState;
  workerId: string;
}

export interface ConnectorStatus {
  state: RuntimeState;
  workerId: string;
  tasks: TaskStatus[];
  /** Traces of the failed connector and tasks, secrets redacted. */
  traces: string[];
}

interface RawStatus {
  connector: { state: RuntimeState; worker_id: string; trace?: string };
  tasks: { id: number; state: RuntimeState; worker_id: string; trace?: string }[];
}

/**
 * A Java stack trace reduced to its exceptions: the first line and every "Caused by", without the frames.
 * The root cause (a refused password, an unknown host) is usually the last of them.
 */
export function summarizeTrace(trace: string): string {
  return trace
    .split("\n")
    .filter((line) => !/^\s+(at |\.\.\. \d+ more)/.test(line) && line.trim() !== "")
    .join("\n  ");
}

const path = (name: string, suffix = ""): string => `/connectors/${encodeURIComponent(name)}${suffix}`;

/** The worker's version (GET /). */
export async function workerVersion(http: AxiosInstance, secrets: readonly string[]): Promise<string> {
  const res = await call("GET /", () => http.get<{ version: string }>("/"), secrets);
  return res.data.version;
}

/** The connector's live config, or undefined when the worker has no connector of that name. */
export async function getConfig(
  http: AxiosInstance,
  name: string,
  secrets: readonly string[],
): Promise<ConnectorConfig | undefined> {
  try {
    return (await call(`GET ${path(name, "/config")}`, () => http.get<ConnectorConfig>(path(name, "/config")), secrets))
      .data;
  } catch (err) {
    if (httpStatusOf(err) === 404) return undefined;
    throw err;
  }
}

/** The connector's status, or undefined when it does not exist (yet). */
export async function getStatus(
  http: AxiosInstance,
  name: string,
  secrets: readonly string[],
): Promise<ConnectorStatus | undefined> {
  let raw: RawStatus;
  try {
    raw = (await call(`GET ${path(name, "/status")}`, () => http.get<RawStatus>(path(name, "/status")), secrets)).data;
  } catch (err) {
    if (httpStatusOf(err) === 404) return undefined;
    throw err;
  }
  const traces = [
    ...(raw.connector.trace ? [`connector: ${summarizeTrace(raw.connector.trace)}`] : []),
    ...raw.tasks.filter((t) => t.trace).map((t) => `task ${t.id}: ${summarizeTrace(t.trace!)}`),
  ].map((trace) => redact(trace, secrets));
  return {
    state: raw.connector.state,
    workerId: raw.connector.worker_id,
    tasks: raw.tasks.map((t) => ({ id: t.id, state: t.state, workerId: t.worker_id })).sort((a, b) => a.id - b.id),
    traces,
  };
}

/** The topics the connector has used (GET /connectors/{name}/topics), sorted. */
export async function getTopics(http: AxiosInstance, name: string, secrets: readonly string[]): Promise<string[]> {
  const res = await call(
    `GET ${path(name, "/topics")}`,
    () => http.get<Record<string, { topics: string[] }>>(path(name, "/topics")),
    secrets,
  );
  return [...(res.data[name]?.topics ?? [])].sort();
}

/**
 * POST /connectors. Returns "exists" on 409 "already exists" (for example when a timed-out attempt did
 * create it), so that the caller can compare and adopt instead of retrying blindly.
 */
export async function postConnector(
  http: AxiosInstance,
  name: string,
  config: ConnectorConfig,
  initialState: DesiredState | undefined,
  secrets: readonly string[],
): Promise<"created" | "exists"> {
  const body = { name, config, ...(initialState ? { initial_state: initialState.toUpperCase() } : {}) };
  try {
    await call("POST /connectors", () => http.post("/connectors", body), secrets);
    return "created";
  } catch (err) {
    if (httpStatusOf(err) === 409 && /already exists/i.test((err as Error).message)) return "exists";
    throw err;
  }
}

/** PUT /connectors/{name}/config: writes the whole config. */
export async function putConfig(
  http: AxiosInstance,
  name: string,
  config: ConnectorConfig,
  secrets: readonly string[],
): Promise<void> {
  await call(`PUT ${path(name, "/config")}`, () => http.put(path(name, "/config"), config), secrets);
}

/** Asks the worker for a target state: PUT resume, pause or stop. */
export async function requestState(
  http: AxiosInstance,
  name: string,
  state: DesiredState,
  secrets: readonly string[],
): Promise<void> {
  const verb = { running: "resume", paused: "pause", stopped: "stop" }[state];
  await call(`PUT ${path(name, `/${verb}`)}`, () => http.put(path(name, `/${verb}`)), secrets);
}

/** Restarts the failed connector and failed tasks only. */
export async function restartFailed(http: AxiosInstance, name: string, secrets: readonly string[]): Promise<void> {
  const url = path(name, "/restart?includeTasks=true&onlyFailed=true");
  await call(`POST ${url}`, () => http.post(url), secrets);
}

/** DELETE /connectors/{name}; a connector that is already gone is success. */
export async function deleteConnector(http: AxiosInstance, name: string, secrets: readonly string[]): Promise<void> {
  try {
    await call(`DELETE ${path(name)}`, () => http.delete(path(name)), secrets);
  } catch (err) {
    if (httpStatusOf(err) === 404) return;
    throw err;
  }
}

export interface ConnectorOffsets {
  offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[];
}

/** GET /connectors/{name}/offsets (Connect 3.5+). */
export async function getOffsets(
  http: AxiosInstance,
  name: string,
  secrets: readonly string[],
): Promise<ConnectorOffsets> {
  return (
    await call(`GET ${path(name, "/offsets")}`, () => http.get<ConnectorOffsets>(path(name, "/offsets")), secrets)
  ).data;
}

/** PATCH /connectors/{name}/offsets (Connect 3.6+; the connector must be stopped). */
export async function patchOffsets(
  http: AxiosInstance,
  name: string,
  offsets: ConnectorOffsets,
  secrets: readonly string[],
): Promise<void> {
  await call(`PATCH ${path(name, "/offsets")}`, () => http.patch(path(name, "/offsets"), offsets), secrets);
}

/** DELETE /connectors/{name}/offsets (Connect 3.6+; the connector must be stopped). */
export async function resetOffsets(http: AxiosInstance, name: string, secrets: readonly string[]): Promise<void> {
  await call(`DELETE ${path(name, "/offsets")}`, () => http.delete(path(name, "/offsets")), secrets);
}

/** Per-key errors of PUT /connector-plugins/{class}/config/validate, as "key: message". */
export async function validateConfig(
  http: AxiosInstance,
  name: string,
  config: ConnectorConfig,
  secrets: readonly string[],
): Promise<string[]> {
  const cls = config["connector.class"];
  const url = `/connector-plugins/${encodeURIComponent(cls)}/config/validate`;
  const res = await call(
    `PUT ${url}`,
    () => http.put<{ configs: { value: { name: string; errors: string[] } | null }[] }>(url, { ...config, name }),
    secrets,
  );
  // Debezium's plugins answer some keys with no value entry at all.
  return res.data.configs
    .flatMap((c) => (c.value?.errors ?? []).map((error) => `${c.value!.name}: ${error}`))
    .map((msg) => redact(msg, secrets));
}

/** The connector state and every task state match the desired state. */
export function reached(status: ConnectorStatus, desired: DesiredState): boolean {
  const want = desired.toUpperCase() as RuntimeState;
  if (status.state !== want) return false;
  // A stopped connector has no tasks; a running one is ready once it has tasks, all running. A paused one may
  // have none: Connect creates no task for a connector created paused, or paused from STOPPED.
  if (desired === "stopped") return status.tasks.length === 0;
  if (desired === "paused") return status.tasks.every((t) => t.state === want);
  return status.tasks.length > 0 && status.tasks.every((t) => t.state === want);
}

/** The failures in a status, or an empty list. */
export function failures(status: ConnectorStatus): string[] {
  const failed = [
    ...(status.state === "FAILED" ? ["connector FAILED"] : []),
    ...status.tasks.filter((t) => t.state === "FAILED").map((t) => `task ${t.id} FAILED on ${t.workerId}`),
  ];
  return failed;
}

const RESTART_GRACE_MS = 10_000;

/**
 * Polls the status until the connector and its tasks reach the desired state, and returns that status.
 * Fails with the traces as soon as the connector or a task FAILS, and with the last status when the
 * timeout passes. With `restartOnce`, a failure is first answered by one restart of what failed.
 *
 * The status alone cannot tell an old task from a new one: see applyConfig for how a wait after a config
 * write is kept from taking the status of a task of the previous config for the new one's.
 */
export async function waitForState(
  http: AxiosInstance,
  name: string,
  desired: DesiredState,
  timeoutMs: number,
  secrets: readonly string[],
  restartOnce = false,
): Promise<ConnectorStatus> {
  let mayRestart = restartOnce;
  let graceUntil = 0;
  // Tasks usually start within a few hundred ms: poll fast at first, then back off to once a second.
  let pollMs = 50;
  const deadline = Date.now() + timeoutMs;
  let last: ConnectorStatus | undefined;
  for (;;) {
    last = await getStatus(http, name, secrets);
    if (last) {
      // A task that failed before a stop is on its way out: stopping is the way to clear it.
      const failed = desired === "stopped" ? [] : failures(last);
      if (failed.length > 0) {
        if (mayRestart) {
          mayRestart = false;
          await restartFailed(http, name, secrets);
          // The restart is carried out asynchronously: the status may say FAILED a little longer.
          graceUntil = Date.now() + RESTART_GRACE_MS;
        } else if (Date.now() >= graceUntil) {
          throw new Error(`Connector '${name}': ${failed.join(", ")}\n${last.traces.join("\n")}`);
        }
      } else if (reached(last, desired)) {
        return last;
      }
    }
    if (Date.now() >= deadline) {
      const seen = last
        ? `connector ${last.state}, tasks [${last.tasks.map((t) => `${t.id}:${t.state}`).join(", ")}]`
        : "no status";
      throw new Error(`Connector '${name}' did not reach ${desired.toUpperCase()} in ${timeoutMs / 1000} s (${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    pollMs = Math.min(1000, pollMs * 2);
  }
}

export interface ApplyOptions {
  /** The worker can stop a connector (Connect 3.5+). */
  canStop: boolean;
  /** Restart a FAILED connector or task once, when the write restarts no task itself. */
  restartFailed: boolean;
  /** Delete the committed offsets while the connector is stopped, before the write (Connect 3.6+). */
  resetOffsets: boolean;
  /** Offsets to write while the connector is stopped, before the write (Connect 3.6+). Default: none. */
  writeOffsets?: ConnectorOffsets;
  /** Keys something else manages (ignoreKeys): the value the worker holds is written back, not the declared one. */
  keepLive: readonly string[];
}

/**
 * Writes the whole config, asks for the desired state and waits until the connector and its tasks are in
 * it; returns the status that showed it.
 *
 * A task that the worker restarts for a new config goes on showing the old task's status (RUNNING, or
 * FAILED) until the new task reports, with nothing in between and nothing in the status to tell the two
 * apart: a wait right after a plain write can take the RUNNING of a task that is already gone for the new
 * task's, and return before the new config fails. So a write that changes the config of a connector that
 * is to run (or stay stopped) is made while it is stopped: once it shows STOPPED with no tasks, every task
 * status that follows is a task of the new config. A connector to be paused is written in place (from
 * STOPPED a connector pauses with no tasks), and so is an unchanged config, which restarts no task.
 */
export async function applyConfig(
  http: AxiosInstance,
  name: string,
  config: ConnectorConfig,
  desired: DesiredState,
  timeoutMs: number,
  secrets: readonly string[],
  options: ApplyOptions,
): Promise<ConnectorStatus> {
  const live = await getConfig(http, name, secrets);
  const kept = options.keepLive.flatMap((key): [string, string][] =>
    live?.[key] !== undefined ? [[key, live[key]]] : [],
  );
  const written: ConnectorConfig = { ...config, ...Object.fromEntries(kept) };
  // Whether the write changes the config the worker holds (the keys it adds itself aside).
  const changes = live !== undefined && changedKeys(live, written, [], { maskedIsChange: true }).length > 0;
  const viaStop =
    options.resetOffsets || options.writeOffsets !== undefined || (options.canStop && desired !== "paused" && changes);
  if (viaStop) {
    // A task that failed before the stop is no obstacle: the stop clears it.
    await requestState(http, name, "stopped", secrets);
    await waitForState(http, name, "stopped", timeoutMs, secrets);
    if (options.resetOffsets) await resetOffsets(http, name, secrets);
    if (options.writeOffsets) await patchOffsets(http, name, options.writeOffsets, secrets);
  }
  await putConfig(http, name, written, secrets);
  // The desired state is re-asserted after every write, whatever the write did to it.
  await requestState(http, name, desired, secrets);
  // After a stop every task is new: one that fails is the new config failing, not an old failure to restart.
  return waitForState(http, name, desired, timeoutMs, secrets, options.restartFailed && !viaStop);
}

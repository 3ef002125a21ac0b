// One pass of `cdc-pipeline watch`: read each connector's status, restart what has FAILED (the connector or
// any of its tasks, restarted together with Connect's onlyFailed restart) when the restart policy says so
// (lib/restart-policy), and give up on a connector that keeps failing. It never changes a configuration:
// that is `pulumi up`'s job. The states and the watcher's own counts are exposed as Prometheus metrics.
import type { AxiosInstance } from "axios";
import { getStatus, restartFailed, type ConnectorStatus } from "./connector-api";
import { decideRestart, FRESH, type RestartPolicy, type RestartRecord } from "./restart-policy";

/** What the watcher keeps between passes, per connector name. */
export interface WatchState {
  readonly records: ReadonlyMap<string, RestartRecord>;
  /** Each connector's last status; undefined when it does not exist. */
  readonly statuses: ReadonlyMap<string, ConnectorStatus | undefined>;
  /** Restarts requested, and connectors given up on, since the watcher started. */
  readonly restartsTotal: ReadonlyMap<string, number>;
  readonly giveUpsTotal: ReadonlyMap<string, number>;
}

export const EMPTY_WATCH: WatchState = {
  records: new Map(),
  statuses: new Map(),
  restartsTotal: new Map(),
  giveUpsTotal: new Map(),
};

/** Something the watcher did or saw, for its log. */
export interface WatchEvent {
  readonly connector: string;
  readonly what: "restarted" | "gave up" | "missing" | "recovered";
  readonly detail: string;
}

const isFailed = (s: ConnectorStatus | undefined) =>
  s !== undefined && (s.state === "FAILED" || s.tasks.some((t) => t.state === "FAILED"));

/** One pass over the connectors: their status read, and restarts made where due. */
export async function watchPass(
  http: AxiosInstance,
  connectors: readonly string[],
  state: WatchState,
  policy: RestartPolicy,
  now: number,
  secrets: readonly string[] = [],
): Promise<{ state: WatchState; events: WatchEvent[] }> {
  const records = new Map(state.records);
  const statuses = new Map(state.statuses);
  const restartsTotal = new Map(state.restartsTotal);
  const giveUpsTotal = new Map(state.giveUpsTotal);
  const events: WatchEvent[] = [];
  for (const name of connectors) {
    const status = await getStatus(http, name, secrets);
    statuses.set(name, status);
    if (status === undefined) {
      if (state.statuses.get(name) !== undefined || !state.statuses.has(name)) {
        events.push({ connector: name, what: "missing", detail: "not on the cluster: `pulumi up` creates it" });
      }
      continue;
    }
    const failed = isFailed(status);
    const before = records.get(name) ?? FRESH;
    const decision = decideRestart(policy, before, failed, now);
    records.set(name, decision.record);
    // Recovered means healthy for the healthy period (its count back to zero), not merely RUNNING again: a
    // restarted task is RUNNING until it fails again on the same cause.
    if ((before.restarts > 0 || before.gaveUp) && decision.record.restarts === 0 && !decision.record.gaveUp) {
      events.push({
        connector: name,
        what: "recovered",
        detail: `${status.state} for ${policy.healthyUnits} units after ${before.restarts} restart(s)`,
      });
    }
    if (decision.action === "restart") {
      await restartFailed(http, name, secrets);
      restartsTotal.set(name, (restartsTotal.get(name) ?? 0) + 1);
      events.push({
        connector: name,
        what: "restarted",
        detail: `restart ${decision.record.restarts} of ${policy.maxRestarts}: ${status.traces.join("; ") || "FAILED"}`,
      });
    } else if (decision.action === "give-up") {
      giveUpsTotal.set(name, (giveUpsTotal.get(name) ?? 0) + 1);
      events.push({
        connector: name,
        what: "gave up",
        detail: `still FAILED after ${policy.maxRestarts} restarts: ${status.traces.join("; ") || "FAILED"}; fix the cause, then restart it (or run pulumi up)`,
      });
    }
  }
  return { state: { records, statuses, restartsTotal, giveUpsTotal }, events };
}

const STATES = ["RUNNING", "PAUSED", "STOPPED", "FAILED", "UNASSIGNED", "RESTARTING"] as const;

/** A Prometheus label value, escaped as the text format asks. */
const label = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/**
 * The watcher's metrics in Prometheus's text format: each connector's and task's state (one series per state,
 * 1 for the current one, as Strimzi and the JMX exporter expose states), its restarts and give-ups.
 */
export function watchMetrics(state: WatchState): string {
  const lines = [
    "# HELP cdc_pipeline_connector_state The connector's state (1 for the current one).",
    "# TYPE cdc_pipeline_connector_state gauge",
  ];
  for (const [name, status] of state.statuses) {
    for (const s of STATES) {
      lines.push(
        `cdc_pipeline_connector_state{connector="${label(name)}",state="${s}"} ${status?.state === s ? 1 : 0}`,
      );
    }
  }
  lines.push(
    "# HELP cdc_pipeline_task_state The task's state (1 for the current one).",
    "# TYPE cdc_pipeline_task_state gauge",
  );
  for (const [name, status] of state.statuses) {
    for (const task of status?.tasks ?? []) {
      for (const s of STATES) {
        lines.push(
          `cdc_pipeline_task_state{connector="${label(name)}",task="${task.id}",state="${s}"} ${task.state === s ? 1 : 0}`,
        );
      }
    }
  }
  const counter = (metric: string, help: string, values: ReadonlyMap<string, number>) => {
    lines.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} counter`);
    for (const name of state.statuses.keys()) {
      lines.push(`${metric}{connector="${label(name)}"} ${values.get(name) ?? 0}`);
    }
  };
  counter("cdc_pipeline_watch_restarts_total", "Restarts the watcher requested.", state.restartsTotal);
  counter("cdc_pipeline_watch_give_ups_total", "Times the watcher gave up on a connector.", state.giveUpsTotal);
  lines.push(
    "# HELP cdc_pipeline_watch_given_up Whether the watcher has given up on the connector (1) or still restarts it.",
    "# TYPE cdc_pipeline_watch_given_up gauge",
  );
  for (const name of state.statuses.keys()) {
    lines.push(`cdc_pipeline_watch_given_up{connector="${label(name)}"} ${state.records.get(name)?.gaveUp ? 1 : 0}`);
  }
  return `${lines.join("\n")}\n`;
}

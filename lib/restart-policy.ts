// When `cdc-pipeline watch` restarts a FAILED connector or task, after Strimzi's auto-restart policy: the
// first restart at once, the n-th after n*n + n time units (0, 2, 6, 12, 20, 30 ... minutes), at most an hour
// apart; the count goes back to zero once the thing has stayed healthy for a healthy period, and after
// maxRestarts restarts in a row the watcher gives up on it and says so. The unit is a minute in production
// and a second in tests.

export interface RestartPolicy {
  /** The time unit of the delays, in ms. Default: a minute. */
  readonly unitMs: number;
  /** The longest delay, in units. Default: 60. */
  readonly maxDelayUnits: number;
  /** Restarts in a row before giving up. Default: 7 (Strimzi's). */
  readonly maxRestarts: number;
  /** How long it must stay healthy for the count to reset, in units. Default: 10. */
  readonly healthyUnits: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  unitMs: 60_000,
  maxDelayUnits: 60,
  maxRestarts: 7,
  healthyUnits: 10,
};

/** What the watcher knows of one connector or task. */
export interface RestartRecord {
  /** Restarts since it was last healthy for the healthy period. */
  readonly restarts: number;
  /** When it was last restarted (ms), if ever. */
  readonly lastRestartAt?: number;
  /** Since when it has been healthy without a break (ms); undefined while it is failed. */
  readonly healthySince?: number;
  /** The watcher gave up on it. */
  readonly gaveUp: boolean;
}

export const FRESH: RestartRecord = { restarts: 0, gaveUp: false };

/** The delay before restart number `restarts` + 1, in ms. */
export function restartDelayMs(policy: RestartPolicy, restarts: number): number {
  return Math.min(restarts * restarts + restarts, policy.maxDelayUnits) * policy.unitMs;
}

/** What to do now with one connector or task. */
export type RestartDecision =
  | { readonly action: "none"; readonly record: RestartRecord }
  | { readonly action: "wait"; readonly untilMs: number; readonly record: RestartRecord }
  | { readonly action: "restart"; readonly record: RestartRecord }
  | { readonly action: "give-up"; readonly record: RestartRecord };

/** Decides, from its state now (failed or not) and what the watcher knows of it, whether to restart it. */
export function decideRestart(
  policy: RestartPolicy,
  record: RestartRecord,
  failed: boolean,
  now: number,
): RestartDecision {
  if (!failed) {
    const healthySince = record.healthySince ?? now;
    const healed = now - healthySince >= policy.healthyUnits * policy.unitMs;
    return { action: "none", record: healed ? { ...FRESH, healthySince } : { ...record, healthySince } };
  }
  const failing = { ...record, healthySince: undefined };
  if (record.gaveUp) return { action: "none", record: failing };
  if (record.restarts >= policy.maxRestarts) return { action: "give-up", record: { ...failing, gaveUp: true } };
  const due = (record.lastRestartAt ?? -Infinity) + restartDelayMs(policy, record.restarts);
  if (now < due) return { action: "wait", untilMs: due, record: failing };
  return { action: "restart", record: { ...failing, restarts: record.restarts + 1, lastRestartAt: now } };
}

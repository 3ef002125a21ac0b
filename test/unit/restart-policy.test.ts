import { describe, expect, it } from "vitest";
import { decideRestart, FRESH, restartDelayMs, type RestartPolicy, type RestartRecord } from "../../lib/restart-policy";

const policy: RestartPolicy = { unitMs: 1000, maxDelayUnits: 60, maxRestarts: 3, healthyUnits: 5 };

describe("restartDelayMs", () => {
  it("follows Strimzi's n*n + n: at once, then 2, 6, 12, 20 units, capped", () => {
    expect([0, 1, 2, 3, 4].map((n) => restartDelayMs(policy, n) / 1000)).toEqual([0, 2, 6, 12, 20]);
    expect(restartDelayMs(policy, 10)).toBe(60_000);
  });
});

describe("decideRestart", () => {
  it("restarts at once, then waits out each delay, then gives up after maxRestarts in a row", () => {
    let record: RestartRecord = FRESH;
    const step = (now: number) => {
      const decision = decideRestart(policy, record, true, now);
      record = decision.record;
      return decision.action;
    };
    expect(step(0)).toBe("restart");
    expect(step(1_000)).toBe("wait");
    expect(step(2_000)).toBe("restart");
    expect(step(7_000)).toBe("wait");
    expect(step(8_000)).toBe("restart");
    expect(step(30_000)).toBe("give-up");
    expect(record.gaveUp).toBe(true);
    expect(step(100_000)).toBe("none");
  });

  it("resets the count once healthy for the healthy period, not before", () => {
    const restarted: RestartRecord = { restarts: 2, lastRestartAt: 9_000, gaveUp: false };
    const healthy = decideRestart(policy, restarted, false, 10_000).record;
    expect(healthy.restarts).toBe(2);
    expect(decideRestart(policy, healthy, false, 14_999).record.restarts).toBe(2);
    expect(decideRestart(policy, healthy, false, 15_000).record).toEqual({ ...FRESH, healthySince: 10_000 });
    // A failure inside the healthy period keeps the count (and so the longer delay).
    expect(decideRestart(policy, healthy, true, 12_000)).toMatchObject({ action: "wait", untilMs: 15_000 });
  });
});

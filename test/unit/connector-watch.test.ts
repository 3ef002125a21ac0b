import { describe, expect, it } from "vitest";
import { EMPTY_WATCH, watchMetrics, type WatchState } from "../../lib/connector-watch";

describe("watchMetrics", () => {
  it("exposes each connector's and task's state, and the watcher's restarts and give-ups", () => {
    const state: WatchState = {
      ...EMPTY_WATCH,
      statuses: new Map([
        ["sink", { state: "RUNNING", workerId: "w", tasks: [{ id: 0, state: "FAILED", workerId: "w" }], traces: [] }],
        ["gone", undefined],
      ]),
      records: new Map([["sink", { restarts: 7, gaveUp: true }]]),
      restartsTotal: new Map([["sink", 7]]),
      giveUpsTotal: new Map([["sink", 1]]),
    };
    const text = watchMetrics(state);
    expect(text).toContain('cdc_pipeline_connector_state{connector="sink",state="RUNNING"} 1');
    expect(text).toContain('cdc_pipeline_connector_state{connector="sink",state="FAILED"} 0');
    expect(text).toContain('cdc_pipeline_connector_state{connector="gone",state="RUNNING"} 0');
    expect(text).toContain('cdc_pipeline_task_state{connector="sink",task="0",state="FAILED"} 1');
    expect(text).toContain('cdc_pipeline_watch_restarts_total{connector="sink"} 7');
    expect(text).toContain('cdc_pipeline_watch_restarts_total{connector="gone"} 0');
    expect(text).toContain('cdc_pipeline_watch_give_ups_total{connector="sink"} 1');
    expect(text).toContain('cdc_pipeline_watch_given_up{connector="sink"} 1');
    expect(text.endsWith("\n")).toBe(true);
  });

  it("escapes label values", () => {
    const state: WatchState = { ...EMPTY_WATCH, statuses: new Map([['a"b\\c', undefined]]) };
    expect(watchMetrics(state)).toContain('connector="a\\"b\\\\c"');
  });
});

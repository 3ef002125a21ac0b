// The watcher's passes against the harness's real worker, with the restart policy's unit set to a second: a
// sink whose database login is refused fails, is restarted at once and after the backoff, and recovers once
// the login is allowed again; a sink whose database port is closed fails for good, and the watcher gives up
// after its restarts and says so in its metrics.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectHttp } from "../../lib/connect-rest";
import { getStatus } from "../../lib/connector-api";
import { EMPTY_WATCH, watchMetrics, watchPass, type WatchEvent, type WatchState } from "../../lib/connector-watch";
import { jdbcSinkConfig } from "../../lib/debezium-configs";
import type { RestartPolicy } from "../../lib/restart-policy";
import { eventually, query } from "../connectors";
import { CLOSED_PORT, harness } from "../harness";

const run = Date.now().toString(36);
const role = `it_watch_${run}`;
const password = `pw-${run}`;
const http = connectHttp({ url: harness.connectUrl });
const policy: RestartPolicy = { unitMs: 1000, maxDelayUnits: 60, maxRestarts: 2, healthyUnits: 3 };
const [recovering, broken] = [`it-watch-${run}-recovering`, `it-watch-${run}-broken`];

const sinkConfig = (port: number) => ({
  ...jdbcSinkConfig({
    ...harness.target,
    port,
    user: role,
    topics: [`it_watch_${run}.none`],
    schema: "public",
    deadLetterTopic: `it_watch_${run}.dead-letter`,
    deadLetterReplicationFactor: 1,
  }),
  "connection.password": password,
});

const failedTask = (name: string) =>
  eventually(
    () => getStatus(http, name, [password]),
    (s) => s?.tasks.some((t) => t.state === "FAILED") ?? false,
    60_000,
  );

beforeAll(async () => {
  await query("target", `CREATE ROLE ${role} NOLOGIN PASSWORD '${password}'`);
  for (const [name, port] of [
    [recovering, harness.target.port],
    [broken, CLOSED_PORT],
  ] as const) {
    expect((await http.put(`/connectors/${name}/config`, sinkConfig(port))).status).toBeLessThan(300);
  }
  await failedTask(recovering);
  await failedTask(broken);
}, 120_000);

afterAll(async () => {
  for (const name of [recovering, broken]) await http.delete(`/connectors/${name}`).catch(() => undefined);
  await query("target", `DROP ROLE IF EXISTS ${role}`);
}, 60_000);

describe("watchPass", () => {
  it("restarts at once and after the backoff, recovers once the cause is gone, and gives up on what keeps failing", async () => {
    let state: WatchState = EMPTY_WATCH;
    const events: WatchEvent[] = [];
    const pass = async () => {
      const result = await watchPass(http, [recovering, broken], state, policy, Date.now(), [password]);
      state = result.state;
      events.push(...result.events);
    };
    await pass();
    expect(events.filter((e) => e.what === "restarted").map((e) => e.connector)).toEqual([recovering, broken]);
    expect(events.map((e) => e.detail).join("\n")).not.toContain(password);
    // Within the 2-unit delay nothing is restarted again.
    await pass();
    expect(events.filter((e) => e.what === "restarted")).toHaveLength(2);

    // The cause gone: the first restart may already have found the login allowed, else the second does.
    await query("target", `ALTER ROLE ${role} LOGIN`);
    const deadline = Date.now() + 90_000;
    const settled = () =>
      events.some((e) => e.connector === recovering && e.what === "recovered") &&
      events.some((e) => e.connector === broken && e.what === "gave up");
    while (Date.now() < deadline && !settled()) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await pass();
    }
    const sequence = (name: string) =>
      events
        .filter((e) => e.connector === name)
        .map((e) => e.what)
        .join(", ");
    expect(["restarted, recovered", "restarted, restarted, recovered"]).toContain(sequence(recovering));
    expect(events.filter((e) => e.connector === broken).map((e) => e.what)).toEqual([
      "restarted",
      "restarted",
      "gave up",
    ]);
    expect(events.find((e) => e.what === "gave up")?.detail).toContain("still FAILED after 2 restarts");

    const metrics = watchMetrics(state);
    expect(metrics).toContain(`cdc_pipeline_task_state{connector="${recovering}",task="0",state="RUNNING"} 1`);
    expect(metrics).toContain(`cdc_pipeline_watch_given_up{connector="${broken}"} 1`);
    expect(metrics).toContain(`cdc_pipeline_watch_restarts_total{connector="${broken}"} 2`);
    expect(metrics).toContain(`cdc_pipeline_watch_given_up{connector="${recovering}"} 0`);
    // Given up: no more restarts, however long it stays failed.
    await pass();
    expect(events.filter((e) => e.connector === broken)).toHaveLength(3);
  }, 180_000);
});

// The connectors' knobs in stack config (cdc-pipeline:connectors), with the real CLI on the local stack: set with
// `pulumi config set --path` in Pulumi.local.yaml as an operator would, seen on the worker after `pulumi up`; a
// declared pause is no drift and survives another `up`, a pause by hand still is drift; an extra setting the
// plugin rejects fails the preview, naming the key. The committed stack file is put back at the end.
import axios from "axios";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, query } from "../connectors";
import { harness, PROJECT_DIR } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const rest = axios.create({ baseURL: harness.connectUrl, headers: { "Content-Type": "application/json" } });
const stackFile = path.join(PROJECT_DIR, "Pulumi.local.yaml");
const committed = readFileSync(stackFile, "utf8");

const set = (key: string, value: string) =>
  backend.ok("config", "set", "--stack", "local", "--path", `cdc-pipeline:${key}`, value);
const up = () => backend.pulumi("up", "--stack", "local", "--yes", "--skip-preview");
const drift = () => backend.script("harness-env.sh", "npm", "run", "-s", "drift", "--", "--stack", "local");
const status = async (name: string) =>
  (await rest.get<{ connector: { state: string }; tasks: { state: string }[] }>(`/connectors/${name}/status`)).data;
const config = async (name: string) => (await rest.get<Record<string, string>>(`/connectors/${name}/config`)).data;

beforeAll(() => {
  backend.ok("stack", "select", "local", "--create");
  set("connectors.sink.state", "paused");
  set("connectors.sink.tasksMax", "2");
  set('connectors.sink.settings["batch.size"]', "500");
  set('connectors.source.settings["heartbeat.interval.ms"]', "3000");
  set("connectors.source.ignoreKeys[0]", "poll.interval.ms");
  const first = up();
  expect(first.status, first.stdout + first.stderr).toBe(0);
});

afterAll(() => {
  writeFileSync(stackFile, committed);
  backend.dispose();
});

describe("connector knobs from the local stack's file", () => {
  it("reach the worker: the sink paused with two tasks and its batch size, the source's heartbeat", async () => {
    expect(readFileSync(stackFile, "utf8")).toContain("batch.size");
    const sink = await config("local-sink");
    expect(sink).toMatchObject({ "tasks.max": "2", "batch.size": "500", "insert.mode": "upsert" });
    expect((await status("local-sink")).connector.state).toBe("PAUSED");
    expect((await config("local-source"))["heartbeat.interval.ms"]).toBe("3000");
    expect((await status("local-source")).connector.state).toBe("RUNNING");
  });

  it("keep the source's slot confirming WAL while the captured tables are idle: each heartbeat writes its table", async () => {
    await query("source", "CREATE TABLE IF NOT EXISTS public.knobs_uncaptured (id serial PRIMARY KEY, v text)");
    // Only a table the pipeline does not capture changes: pgoutput sends the connector nothing of it.
    await query("source", "INSERT INTO public.knobs_uncaptured (v) SELECT 'x' FROM generate_series(1, 1000)");
    const [{ written }] = await query<{ written: string }>("source", "SELECT pg_current_wal_lsn()::text AS written");
    const confirmed = async () =>
      (
        await query<{ passed: boolean }>(
          "source",
          "SELECT confirmed_flush_lsn >= $1::pg_lsn AS passed FROM pg_replication_slots WHERE slot_name = 'local_slot'",
          [written],
        )
      )[0]?.passed;
    // The source's heartbeat is every 3 s here (set above); offsets are flushed every second.
    expect(await eventually(confirmed, (passed) => passed === true, 30_000)).toBe(true);
    await query("source", "DROP TABLE public.knobs_uncaptured");
  });

  it("hold a declared pause through another `up` and the drift check; a key declared ignored is no drift", async () => {
    const live = await config("local-source");
    await rest.put("/connectors/local-source/config", { ...live, "poll.interval.ms": "700" });
    const again = up();
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect((await status("local-sink")).connector.state).toBe("PAUSED");
    const clean = drift();
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    expect((await config("local-source"))["poll.interval.ms"]).toBe("700");
  });

  it("still report a pause by hand as drift", async () => {
    await rest.put("/connectors/local-source/pause");
    const found = drift();
    expect(found.status, found.stdout + found.stderr).toBe(1);
    expect(found.stdout).toMatch(/state: live "paused", declared "running"/);
    await rest.put("/connectors/local-source/resume");
  });

  it("fail the preview on a setting the plugin rejects, naming the key, and change nothing", async () => {
    set('connectors.sink.settings["batch.size"]', "lots");
    const preview = backend.pulumi("preview", "--stack", "local");
    expect(preview.status).not.toBe(0);
    expect(preview.stdout + preview.stderr).toMatch(/batch\.size/);
    expect((await config("local-sink"))["batch.size"]).toBe("500");
  });
});

// KafkaConnector through the real Pulumi CLI: deploy a source and a sink, see drift made by hand over REST
// in a refresh preview, repair it with `up`, destroy; no secret in the state, the CLI output or the
// worker's log.
import axios from "axios";
import { readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, query, TestPipeline } from "../connectors";
import { harness } from "../harness";
import { PrivateBackend } from "./cli";

const backend = new PrivateBackend();
const program = path.join(__dirname, "connector-stack");
const p = new TestPipeline(`e2e_${Date.now().toString(36)}`);
const rest = axios.create({
  baseURL: harness.connectUrl,
  validateStatus: () => true,
  headers: { "Content-Type": "application/json" },
});

/** The CLI on the test program; its stack config, Pulumi.e2e.yaml beside it, is removed afterwards. */
const cli = (...args: string[]) => backend.pulumi("--cwd", program, ...args, "--stack", "e2e");
function ok(...args: string[]): string {
  const result = cli(...args);
  expect(result.status, `pulumi ${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}
/** A refresh preview that must find drift: exit code and what it printed. */
function drifted(): string {
  const result = cli("preview", "--refresh", "--expect-no-changes", "--diff");
  expect(result.status, result.stdout + result.stderr).not.toBe(0);
  return result.stdout + result.stderr;
}
function clean(): void {
  const result = cli("preview", "--refresh", "--expect-no-changes", "--diff");
  expect(result.status, result.stdout + result.stderr).toBe(0);
}

afterAll(async () => {
  cli("destroy", "--yes");
  backend.dispose();
  // `stack init` writes the stack's passphrase salt next to the program.
  rmSync(path.join(program, "Pulumi.e2e.yaml"), { force: true });
  await p.dropAll();
});

describe("KafkaConnector with the real CLI", () => {
  it("deploys, detects drift made by hand, repairs it with up, and destroys", async () => {
    await p.createSourceTable();
    await query("source", `INSERT INTO ${p.table} VALUES (1, 'Ada')`);
    expect(backend.pulumi("--cwd", program, "stack", "init", "e2e").status).toBe(0);
    for (const [key, value] of Object.entries({
      connectUrl: harness.connectUrl,
      prefix: p.prefix,
      table: p.table,
      sourcePort: String(harness.source.port),
      targetPort: String(harness.target.port),
    })) {
      ok("config", "set", key, value);
    }
    ok("config", "set", "--secret", "pgPassword", harness.pgPassword);

    const up = ok("up", "--yes", "--skip-preview");
    expect(up).toMatch(/\+ 3 created/);
    const outputs = JSON.parse(ok("stack", "output", "--json")) as Record<string, unknown>;
    expect(outputs).toMatchObject({ sourceState: "running", sinkState: "running", workerVersion: "4.3.1" });
    expect(outputs.sinkTasks).toEqual([expect.objectContaining({ id: 0, state: "RUNNING" })]);
    const rows = () => query("target", `SELECT id FROM ${p.table}`).catch(() => []);
    await eventually(rows, (r) => r.length === 1);
    clean();

    // A config edited over REST: the preview names the key; up puts the declared config back.
    const sink = `${p.prefix}-sink`;
    const live = (await rest.get<Record<string, string>>(`/connectors/${sink}/config`)).data;
    await rest.put(`/connectors/${sink}/config`, { ...live, "batch.size": "7" });
    expect(drifted()).toContain("batch.size");
    ok("up", "--refresh", "--yes", "--skip-preview");
    expect((await rest.get<Record<string, string>>(`/connectors/${sink}/config`)).data["batch.size"]).toBeUndefined();
    clean();

    // Paused by hand: up resumes it.
    await rest.put(`/connectors/${sink}/pause`);
    await eventually(
      async () => (await rest.get<{ connector: { state: string } }>(`/connectors/${sink}/status`)).data.connector.state,
      (s) => s === "PAUSED",
    );
    // The refresh part of the preview shows the live state against the recorded one.
    expect(drifted()).toMatch(/state\s*:\s*"running"\s*=>\s*"paused"/);
    ok("up", "--refresh", "--yes", "--skip-preview");
    expect((await rest.get<{ connector: { state: string } }>(`/connectors/${sink}/status`)).data.connector.state).toBe(
      "RUNNING",
    );

    // Deleted by hand: the preview plans to create it again, up does.
    await rest.delete(`/connectors/${sink}`);
    expect(drifted()).toMatch(/\+ 1 to create/);
    ok("up", "--refresh", "--yes", "--skip-preview");
    expect((await rest.get(`/connectors/${sink}`)).status).toBe(200);
    clean();
    await query("source", `INSERT INTO ${p.table} VALUES (2, 'Grace')`);
    await eventually(rows, (r) => r.length === 2);

    // No secret anywhere: state files, CLI output, the worker's log.
    const exported = ok("stack", "export");
    expect(exported).not.toContain(harness.pgPassword);
    expect(backend.files()).not.toContain(harness.pgPassword);
    expect(backend.transcript.join("\n")).not.toContain(harness.pgPassword);
    expect(readFileSync(`${harness.env.CDC_RUN_DIR}/connect/connect.log`, "utf8")).not.toContain(harness.pgPassword);

    expect(ok("destroy", "--yes")).toMatch(/- 3 deleted/);
    expect((await rest.get(`/connectors/${sink}`)).status).toBe(404);
    expect((await rest.get(`/connectors/${p.prefix}-source`)).status).toBe(404);
  });
});

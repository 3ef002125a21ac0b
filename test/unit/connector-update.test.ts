// KafkaConnector update against a fake Kafka Connect worker whose status lags behind what it does, as the
// real one's does: a task restarted for a new config goes on showing the old task's RUNNING (or FAILED)
// until the new task reports, with nothing in between. The fake answers on loopback; each status read
// moves it one step on, so every sequence is the same on every run.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { changedKeys, hashSecrets } from "../../lib/connector-config";
import { kafkaConnectorProvider as provider, type KafkaConnectorInputs } from "../../providers/kafka-connector";
import { RECORDED_SALT, recordedConnector } from "../recorded-connector";

type State = "RUNNING" | "PAUSED" | "STOPPED" | "FAILED" | "UNASSIGNED" | "RESTARTING";
interface View {
  connector: State;
  tasks: State[];
}

const GOOD = "good-password";
const TRACE = "org.apache.kafka.connect.errors.ConnectException: login refused\n\tat Task.start(Task.java:1)";

/**
 * One sink connector on a worker. A change is not shown at once: it queues the views the status will show,
 * one per read. A task only works with the password GOOD. With a `requiredToken`, every request without
 * that bearer token is refused with 401.
 */
class FakeWorker {
  config: Record<string, string> = {};
  requiredToken?: string;
  target: "STARTED" | "PAUSED" | "STOPPED" = "STARTED";
  shown: View = { connector: "RUNNING", tasks: ["RUNNING"] };
  pending: View[] = [];
  readonly requests: string[] = [];
  url = "";
  private server?: Server;

  constructor(readonly name: string) {}

  /** The view the status will show once what is queued has been shown. */
  private get last(): View {
    return this.pending.at(-1) ?? this.shown;
  }

  private outcome(): State {
    return this.config["connection.password"] === GOOD ? "RUNNING" : "FAILED";
  }

  /** PUT config: a running connector restarts its task for a changed config; the old task shows meanwhile. */
  writeConfig(config: Record<string, string>): void {
    const changed = changedKeys(this.config, config, [], { maskedIsChange: true }).length > 0;
    this.config = { ...config, name: this.name };
    if (changed && this.target === "STARTED") {
      this.pending.push(this.last, { connector: "RUNNING", tasks: [this.outcome()] });
    }
  }

  private setTarget(verb: string): void {
    const from = this.target;
    if (verb === "stop") {
      this.target = "STOPPED";
      this.pending.push({ ...this.last, connector: "STOPPED" }, { connector: "STOPPED", tasks: [] });
    } else if (verb === "pause") {
      this.target = "PAUSED";
      this.pending.push({ connector: "PAUSED", tasks: this.last.tasks.map((t) => (t === "RUNNING" ? "PAUSED" : t)) });
    } else {
      this.target = "STARTED";
      if (from === "STOPPED") {
        this.pending.push({ connector: "RUNNING", tasks: [] }, { connector: "RUNNING", tasks: [this.outcome()] });
      } else if (from === "PAUSED") {
        this.pending.push({
          connector: "RUNNING",
          tasks: this.last.tasks.map((t) => (t === "PAUSED" ? "RUNNING" : t)),
        });
      }
    }
  }

  private restartFailed(): void {
    const tasks = this.last.tasks;
    this.pending.push(
      { connector: "RUNNING", tasks: tasks.map((t) => (t === "FAILED" ? "RESTARTING" : t)) },
      { connector: "RUNNING", tasks: tasks.map((t) => (t === "FAILED" ? this.outcome() : t)) },
    );
  }

  private status() {
    this.shown = this.pending.shift() ?? this.shown;
    return {
      name: this.name,
      connector: { state: this.shown.connector, worker_id: "w:8083" },
      tasks: this.shown.tasks.map((state, id) => ({
        id,
        state,
        worker_id: "w:8083",
        ...(state === "FAILED" ? { trace: TRACE } : {}),
      })),
      type: "sink",
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    const url = new URL(req.url!, "http://fake");
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const base = `/connectors/${this.name}`;
    const send = (status: number, data?: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(data === undefined ? "" : JSON.stringify(data));
    };
    if (this.requiredToken && req.headers.authorization !== `Bearer ${this.requiredToken}`) {
      return send(401, { error_code: 401, message: "Unauthorized" });
    }
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /") return send(200, { version: "4.3.1" });
    if (route === `GET ${base}/config`) return send(200, this.config);
    if (route === `GET ${base}/status`) return send(200, this.status());
    if (route === `GET ${base}/topics`) return send(200, { [this.name]: { topics: [] } });
    if (route === `PUT ${base}/config`) {
      this.writeConfig(JSON.parse(body) as Record<string, string>);
      return send(200, {});
    }
    const verb = /^PUT .*\/(stop|pause|resume)$/.exec(route)?.[1];
    if (verb && url.pathname === `${base}/${verb}`) {
      this.setTarget(verb);
      return send(202);
    }
    if (route === `DELETE ${base}`) {
      this.config = {};
      return send(204);
    }
    if (route === `POST ${base}/restart`) {
      this.restartFailed();
      return send(202, {});
    }
    send(404, { error_code: 404, message: `no route ${route}` });
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

let worker: FakeWorker;

const config = { "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector", "tasks.max": "1", topics: "t" };
const inputs = (overrides: Partial<KafkaConnectorInputs> = {}): KafkaConnectorInputs => ({
  cluster: { url: worker.url },
  name: worker.name,
  config,
  sensitiveConfig: { "connection.password": GOOD },
  state: "running",
  readyTimeoutSeconds: 10,
  restartFailedTasks: true,
  offsetsPolicy: "keep",
  ignoreKeys: [],
  validate: false,
  ...overrides,
});
/** The state recorded for the connector as it was before the change by hand. */
const recorded = () => recordedConnector(inputs());

beforeEach(async () => {
  worker = new FakeWorker("sink");
  await worker.start();
  worker.config = { ...config, "connection.password": GOOD, name: "sink" };
});

afterEach(async () => {
  await worker.stop();
});

describe("KafkaConnector update, when the status still shows the task of the config before", () => {
  it("records no phantom drift after a password changed by hand that the worker is still applying", async () => {
    // By hand: the old task's RUNNING shows once more, then the task of the wrong password FAILS.
    worker.writeConfig({ ...config, "connection.password": "changed-by-hand" });
    // As the refresh of `up --refresh` records it: the config it read, the task not yet restarted.
    const refreshed = {
      ...recorded(),
      sensitiveHash: hashSecrets({ "connection.password": "changed-by-hand" }, RECORDED_SALT),
    };
    const { outs } = await provider.update("sink", refreshed, inputs());
    expect(outs).toMatchObject({ state: "running", tasks: [{ id: 0, state: "RUNNING" }] });
    expect((await provider.diff("sink", outs!, inputs())).changes).toBe(false);
    // The changed config was written while the connector was stopped, and then the new task ran.
    expect(worker.requests.filter((r) => r.startsWith("PUT"))).toEqual([
      "PUT /connectors/sink/stop",
      "PUT /connectors/sink/config",
      "PUT /connectors/sink/resume",
    ]);
    expect(worker.config["connection.password"]).toBe(GOOD);
    expect(worker.shown).toEqual({ connector: "RUNNING", tasks: ["RUNNING"] });
  });

  it("fails an update whose new task fails, instead of succeeding on the old task's RUNNING", async () => {
    const wrong = inputs({ sensitiveConfig: { "connection.password": "wrong-password-never-printed" } });
    const failure = await provider.update("sink", recorded(), wrong).then(
      () => "no error",
      (err: Error) => err.message,
    );
    expect(failure).toBe("Connector 'sink': task 0 FAILED on w:8083\ntask 0: " + TRACE.split("\n")[0]);
    // The failed task of the new config is the update's answer, not a task to restart.
    expect(worker.requests.filter((r) => r.startsWith("POST"))).toEqual([]);
  });

  it("writes an unchanged config in place: a connector paused by hand is resumed, not stopped", async () => {
    worker.target = "PAUSED";
    worker.shown = { connector: "PAUSED", tasks: ["PAUSED"] };
    const { outs } = await provider.update("sink", { ...recorded(), state: "paused" }, inputs());
    expect(outs).toMatchObject({ state: "running", tasks: [{ id: 0, state: "RUNNING" }] });
    expect(worker.requests).not.toContain("PUT /connectors/sink/stop");
  });

  it("restarts a task that failed under an unchanged config once, and records it running", async () => {
    worker.shown = { connector: "RUNNING", tasks: ["FAILED"] };
    const failed = { ...recorded(), tasks: [{ id: 0, state: "FAILED" as const, workerId: "w:8083" }] };
    expect((await provider.diff("sink", failed, inputs())).changes).toBe(true);
    const { outs } = await provider.update("sink", failed, inputs());
    expect(outs?.tasks).toEqual([{ id: 0, state: "RUNNING", workerId: "w:8083" }]);
    expect(worker.requests).toContain("POST /connectors/sink/restart?includeTasks=true&onlyFailed=true");
    expect(worker.requests).not.toContain("PUT /connectors/sink/stop");
  });

  it("writes a changed config of a connector to be paused in place: from STOPPED it would pause without tasks", async () => {
    const { outs } = await provider.update(
      "sink",
      recorded(),
      inputs({ state: "paused", config: { ...config, "batch.size": "7" } }),
    );
    expect(outs).toMatchObject({ state: "paused", tasks: [{ id: 0, state: "PAUSED" }] });
    expect(worker.requests).not.toContain("PUT /connectors/sink/stop");
  });
});

describe("KafkaConnector update after the cluster's credential was rotated", () => {
  it("takes the new token into the state without writing to the worker; read and delete then use it", async () => {
    const withToken = (token: string) => inputs({ cluster: { url: worker.url, token } });
    const before = recordedConnector(withToken("token-1"));
    // Rotated on the worker: the recorded token no longer gets in.
    worker.requiredToken = "token-2";
    await expect(provider.read("sink", before)).rejects.toThrow("GET /connectors/sink/config: HTTP 401: Unauthorized");
    expect(await provider.diff("sink", before, withToken("token-2"))).toEqual({ changes: true, replaces: [] });

    worker.requests.length = 0;
    const { outs } = await provider.update("sink", before, withToken("token-2"));
    expect(worker.requests.filter((r) => !r.startsWith("GET "))).toEqual([]);
    expect(outs).toMatchObject({
      cluster: { url: worker.url, token: "token-2" },
      state: "running",
      providerVersion: 2,
    });
    expect(outs!.clusterHash).not.toBe(before.clusterHash);
    expect(await provider.diff("sink", outs!, withToken("token-2"))).toEqual({ changes: false, replaces: [] });

    expect((await provider.read("sink", outs)).props).toMatchObject({ state: "running", config });
    await provider.delete("sink", outs!);
    expect(worker.requests).toContain("DELETE /connectors/sink");
    expect(worker.config).toEqual({});
  });

  it("with a changed config too, writes it with the new token", async () => {
    const before = recordedConnector(inputs({ cluster: { url: worker.url, token: "token-1" } }));
    worker.requiredToken = "token-2";
    const changed = inputs({
      cluster: { url: worker.url, token: "token-2" },
      config: { ...config, "batch.size": "7" },
    });
    const { outs } = await provider.update("sink", before, changed);
    expect(worker.config["batch.size"]).toBe("7");
    expect(outs).toMatchObject({ cluster: { token: "token-2" }, config: { "batch.size": "7" } });
  });
});

describe("KafkaConnector check of the declared state", () => {
  /** A worker that answers only GET / with its version (a stand-in for an old Connect, which cannot run here). */
  async function workerOfVersion(version: string): Promise<{ url: string; close: () => Promise<unknown> }> {
    const server = createServer((req, res) => {
      res.writeHead(req.url === "/" ? 200 : 404, { "Content-Type": "application/json" });
      res.end(JSON.stringify(req.url === "/" ? { version, commit: "x", kafka_cluster_id: "c" } : {}));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it("refuses at preview a stopped state that the worker's Connect version cannot hold, naming what is allowed", async () => {
    const old = await workerOfVersion("3.4.1");
    try {
      const checked = await provider.check(inputs(), { ...inputs({ state: "stopped" }), cluster: { url: old.url } });
      expect(checked.failures).toEqual([
        {
          property: "state",
          reason: `'stopped' needs Kafka Connect 3.5 or later and ${old.url} runs 3.4.1: use running or paused`,
        },
      ]);
      const paused = await provider.check(inputs(), { ...inputs({ state: "paused" }), cluster: { url: old.url } });
      expect(paused.failures).toEqual([]);
    } finally {
      await old.close();
    }
    const current = await workerOfVersion("4.3.1");
    try {
      const checked = await provider.check(inputs(), {
        ...inputs({ state: "stopped" }),
        cluster: { url: current.url },
      });
      expect(checked.failures).toEqual([]);
    } finally {
      await current.close();
    }
  });
});

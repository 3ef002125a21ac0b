// Benchmark of KafkaConnector against the harness's Kafka Connect worker. Prints figures; asserts nothing.
//   1. create-to-RUNNING: the provider's create (validate, POST, wait for tasks) against a raw REST PUT
//      of the config plus status polling, the runbooks' way;
//   2. a no-op `pulumi preview --refresh` with 1, 10 and 50 connectors: wall time and the number of HTTP
//      requests the worker served (counted in its access log).
// Run: npm run bench:connectors (the harness must be up: scripts/services.sh up). Sizes: BENCH_ROUNDS (creates
// per median, default 5) and BENCH_CONNECTORS (the previews' connector counts, default 1,10,50); a smoke run
// (test/e2e/bench-smoke.test.ts) is BENCH_ROUNDS=1 BENCH_CONNECTORS=1.
import axios from "axios";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { kafkaConnectorProvider as provider, type KafkaConnectorInputs } from "../providers/kafka-connector";

const root = path.resolve(__dirname, "..");
const env = Object.fromEntries(
  [
    ...execFileSync("bash", [path.join(root, "scripts/services.sh"), "env"], { encoding: "utf8" }).matchAll(
      /^export (\w+)="?([^"\n]*)"?$/gm,
    ),
  ].map((m) => [m[1], m[2]]),
);
const url = env.CDC_CONNECT_URL;
const connectLog = path.join(env.CDC_RUN_DIR, "connect/connect.log");
const rest = axios.create({ baseURL: url, headers: { "Content-Type": "application/json" } });
const run = Date.now().toString(36);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const COUNTS = (process.env.BENCH_CONNECTORS ?? "1,10,50").split(",").map(Number);

const sinkConfig = (prefix: string) => ({
  "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
  file: "/dev/null",
  topics: `${prefix}-topic`,
  "tasks.max": "1",
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function rawCreate(name: string): Promise<number> {
  const start = performance.now();
  await rest.put(`/connectors/${name}/config`, sinkConfig(name));
  for (;;) {
    const status = await rest.get<{ connector: { state: string }; tasks: { state: string }[] }>(
      `/connectors/${name}/status`,
      { validateStatus: () => true },
    );
    if (
      status.status === 200 &&
      status.data.connector.state === "RUNNING" &&
      status.data.tasks[0]?.state === "RUNNING"
    ) {
      return performance.now() - start;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function providerCreate(name: string): Promise<number> {
  const news = {
    cluster: { url },
    name,
    config: sinkConfig(name),
    sensitiveConfig: {},
  } as unknown as KafkaConnectorInputs;
  const start = performance.now();
  const checked = await provider.check({} as KafkaConnectorInputs, news);
  await provider.create(checked.inputs as KafkaConnectorInputs);
  return performance.now() - start;
}

async function createToRunning(rounds: number): Promise<void> {
  const raw: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < rounds; i++) {
    raw.push(await rawCreate(`bench-raw-${run}-${i}`));
    ours.push(await providerCreate(`bench-res-${run}-${i}`));
  }
  const names = (await rest.get<string[]>("/connectors")).data.filter((n) => n.includes(run));
  await Promise.all(names.map((n) => rest.delete(`/connectors/${n}`)));
  console.log(`create-to-RUNNING, median of ${rounds}:`);
  console.log(`  raw PUT + status polling (100 ms) : ${median(raw).toFixed(0)} ms`);
  console.log(`  KafkaConnector check + create     : ${median(ours).toFixed(0)} ms`);
}

function accessLogLines(): number {
  return (readFileSync(connectLog, "utf8").match(/\.RestServer\)$/gm) ?? []).length;
}

function previewRefresh(count: number): void {
  const program = path.join(root, "bench/connectors");
  const backend = mkdtempSync(path.join(tmpdir(), "cdc-bench-"));
  const pulumi = (...args: string[]) => {
    const result = spawnSync("bash", [path.join(root, "scripts/pulumi.sh"), "--cwd", program, ...args], {
      encoding: "utf8",
      env: { ...process.env, PULUMI_BACKEND_URL: `file://${backend}` },
    });
    if (result.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
  };
  const stack = ["--stack", "bench"];
  try {
    pulumi("stack", "init", "bench");
    pulumi("config", "set", ...stack, "connectUrl", url);
    pulumi("config", "set", ...stack, "prefix", `bench-${run}-${count}`);
    pulumi("config", "set", ...stack, "count", String(count));
    pulumi("up", ...stack, "--yes", "--skip-preview");
    const before = accessLogLines();
    const start = performance.now();
    pulumi("preview", ...stack, "--refresh", "--expect-no-changes");
    const ms = performance.now() - start;
    const requests = accessLogLines() - before;
    console.log(`  ${String(count).padStart(3)} connectors: ${(ms / 1000).toFixed(1)} s, ${requests} HTTP requests`);
    pulumi("destroy", ...stack, "--yes");
    pulumi("stack", "rm", ...stack, "--yes");
  } finally {
    rmSync(backend, { recursive: true, force: true });
    rmSync(path.join(program, "Pulumi.bench.yaml"), { force: true });
  }
}

async function main(): Promise<void> {
  for (const [name, values] of [
    ["BENCH_ROUNDS", [ROUNDS]],
    ["BENCH_CONNECTORS", COUNTS],
  ] as const) {
    if (!values.every((n) => Number.isInteger(n) && n >= 1)) throw new Error(`${name}: whole numbers >= 1`);
  }
  await createToRunning(ROUNDS);
  console.log("no-op pulumi preview --refresh (real CLI):");
  for (const count of COUNTS) previewRefresh(count);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

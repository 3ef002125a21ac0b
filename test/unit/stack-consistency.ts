// The committed stack files as a whole: the program is run under mocks with a stack's Pulumi.<stack>.yaml as
// committed, and what each part is given (addresses, topics, replication factors, TLS, secrets) is checked
// against what another part declares. One test file per stack (the Pulumi runtime holds one program).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { expect } from "vitest";
import { parseStackSettings, PROJECT, SECRET_KEYS, StackConfigError } from "../../config";
import { BACKUP_JOB_FILE } from "../../components/pipeline-containers";
import { dockerPublicHost } from "../../lib/container-services";
import { pipelineNames } from "../../lib/pipeline-names";
import { sourceConnection, stackAddresses, type StackSite } from "../../ops/stacks";
import { bucketProblems, plaintextPasswordKeys } from "../../policy/rules";
import { allRegistered, policyResources, recordResources, type Registered } from "./mocks";

export const PROJECT_DIR = path.resolve(__dirname, "../..");

/** A stack file's `config:` as the CLI hands it to the program (project keys only, secrets as placeholders). */
export function committedConfig(stack: string): Record<string, unknown> {
  const file = load(readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  return file.config ?? {};
}

/** A stack file's project keys without the `cdc-pipeline:` prefix and without its secrets, as config.ts reads them. */
export function committedSettings(stack: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(committedConfig(stack))
      .filter(([key]) => key.startsWith(`${PROJECT}:`))
      .map(([key, value]): [string, unknown] => [key.slice(PROJECT.length + 1), value])
      .filter(([name]) => !(SECRET_KEYS as readonly string[]).includes(name)),
  );
}

/** The value a test gives each secret: distinct, so that where each one ends up can be checked. */
export const placeholder = (key: string) => `placeholder-${key}`;

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** A value as the program gave it, without Pulumi's secret wrapper (the mocks see inputs on the wire). */
function plain(value: unknown): unknown {
  if (value && typeof value === "object" && SECRET_SIG in value)
    return plain((value as unknown as { value: unknown }).value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** host:port of a resource's host and port inputs. */
const hostPortOf = (inputs: Record<string, unknown>) => `${String(inputs.host)}:${String(inputs.port)}`;

/** host:port of a URL (http or jdbc:postgresql). */
function urlHostPort(text: string): string {
  const url = new URL(text.replace(/^jdbc:/, ""));
  return `${url.hostname}:${url.port}`;
}

export interface StackUnderTest {
  readonly stack: string;
  readonly raw: Record<string, unknown>;
  readonly registered: Registered[];
  readonly outputs: Record<string, unknown>;
}

/** Runs index.ts under mocks with the committed stack file, secrets set to placeholders. */
export async function deployUnderMocks(
  stack: string,
  stackOutputs: Record<string, Record<string, unknown>> = {},
): Promise<StackUnderTest> {
  const raw = committedSettings(stack);
  const config: Record<string, unknown> = Object.fromEntries(
    Object.entries(raw).map(([name, value]) => [`${PROJECT}:${name}`, value]),
  );
  for (const key of SECRET_KEYS) config[`${PROJECT}:${key}`] = placeholder(key);
  const registered = await recordResources(stack, config, stackOutputs);
  const program = (await import("../../index")) as Record<string, unknown>;
  await allRegistered();
  const outputs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(program)) {
    const output = value as { apply?: (f: (v: unknown) => void) => void } | undefined;
    outputs[name] = output?.apply ? await new Promise((resolve) => output.apply!(resolve)) : value;
  }
  return {
    stack,
    raw,
    registered: registered.map((r) => ({ ...r, inputs: plain(r.inputs) as Record<string, unknown> })),
    outputs,
  };
}

const ofType = (s: StackUnderTest, type: string) => s.registered.filter((r) => r.type === type);
const dynamic = (s: StackUnderTest, kind: string) => ofType(s, `pulumi-nodejs:dynamic/cdc-pipeline:${kind}`);
const connector = (s: StackUnderTest, suffix: string) =>
  dynamic(s, "KafkaConnector").find((r) => r.name.endsWith(suffix))!.inputs.config as Record<string, string>;
const envOf = (c: Registered): Record<string, string> =>
  Object.fromEntries(
    ((c.inputs.envs as string[] | undefined) ?? []).map((e) => [
      e.slice(0, e.indexOf("=")),
      e.slice(e.indexOf("=") + 1),
    ]),
  );

/** What the stack declares: the addresses the program may use, and the ones the Connect workers may. */
export function declaredAddresses(s: StackUnderTest): {
  fromProgram: Set<string>;
  fromWorkers: Set<string>;
  brokers?: number;
} {
  const containers = ofType(s, "docker:index/container:Container");
  if (containers.length === 0) {
    // External endpoints: only what the stack file itself lists.
    const cfg = s.raw as {
      source: { host: string; port: number };
      target: { host: string; port: number };
      kafkaConnect: { url: string; bootstrapServers: string };
    };
    const external = new Set([
      `${cfg.source.host}:${cfg.source.port}`,
      `${cfg.target.host}:${cfg.target.port}`,
      urlHostPort(cfg.kafkaConnect.url),
      ...cfg.kafkaConnect.bootstrapServers.split(","),
    ]);
    return { fromProgram: external, fromWorkers: external };
  }
  const docker = s.raw.docker as { host: string; publicHost?: string };
  const [provider] = ofType(s, "pulumi:providers:docker");
  expect(provider.inputs.host, "the containers run on the stack's docker.host").toBe(docker.host);
  const publicHost = docker.publicHost ?? dockerPublicHost(docker.host);
  const fromProgram = new Set<string>();
  const fromWorkers = new Set<string>();
  let brokers = 0;
  for (const c of containers) {
    const aliases = (c.inputs.networksAdvanced as { aliases: string[] }[]).flatMap((n) => n.aliases);
    const ports = (c.inputs.ports as { external: number; internal: number }[] | undefined) ?? [];
    const env = envOf(c);
    if (env.KAFKA_ADVERTISED_LISTENERS) {
      brokers++;
      // A Kafka client is sent to the advertised address of the listener it connected to: an address counts
      // when it is advertised and reachable from that side (a network alias inside, a published port outside).
      const listenPorts = new Map(
        env.KAFKA_LISTENERS.split(",").map((l) => [l.slice(0, l.indexOf(":")), Number(l.split(":").pop())]),
      );
      for (const listener of env.KAFKA_ADVERTISED_LISTENERS.split(",")) {
        const name = listener.slice(0, listener.indexOf(":"));
        const [host, port] = listener.slice(name.length + 3).split(":");
        if (aliases.includes(host) && listenPorts.get(name) === Number(port)) fromWorkers.add(`${host}:${port}`);
        const published = ports.find((p) => p.internal === listenPorts.get(name));
        if (host === publicHost && published?.external === Number(port)) fromProgram.add(`${host}:${port}`);
      }
      continue;
    }
    for (const p of ports) {
      fromProgram.add(`${publicHost}:${p.external}`);
      for (const alias of aliases) fromWorkers.add(`${alias}:${p.internal}`);
    }
  }
  return { fromProgram, fromWorkers, brokers };
}

/** Every check of the consistency suite for one stack; each failure names the part and the address (all reported). */
export function checkConsistency(s: StackUnderTest): void {
  const { fromProgram, fromWorkers, brokers } = declaredAddresses(s);
  const source = connector(s, "-source");
  const sink = connector(s, "-sink");

  // 1. Every address a provider or a connector is given is declared.
  const programSide: [string, string][] = [
    ...dynamic(s, "ConnectCluster").map((r): [string, string] => [r.name, urlHostPort(r.inputs.url as string)]),
    ...dynamic(s, "KafkaConnector").map((r): [string, string] => [
      r.name,
      urlHostPort((r.inputs.cluster as { url: string }).url),
    ]),
    ...["SqlServerCdc", "PostgresCdc", "PostgresServer", "PostgresSchema"].flatMap((kind) =>
      dynamic(s, kind).map((r): [string, string] => [r.name, hostPortOf(r.inputs)]),
    ),
    ["output kafkaBootstrapServers", s.outputs.kafkaBootstrapServers as string],
    ...dynamic(s, "KafkaCluster").flatMap((r) =>
      (r.inputs.bootstrapServers as string).split(",").map((a): [string, string] => [r.name, a.trim()]),
    ),
  ];
  for (const [part, address] of programSide) {
    expect.soft([...fromProgram], `${s.stack}: ${part} is given ${address}`).toContain(address);
  }
  const workerSide: [string, string][] = [
    ["source connector database", `${source["database.hostname"]}:${source["database.port"]}`],
    ["sink connector connection.url", urlHostPort(sink["connection.url"])],
    ...(source["schema.history.internal.kafka.bootstrap.servers"] ?? "")
      .split(",")
      .filter(Boolean)
      .map((a): [string, string] => ["source connector schema history", a]),
  ];
  for (const [part, address] of workerSide) {
    expect.soft([...fromWorkers], `${s.stack}: ${part} is ${address}`).toContain(address);
  }

  // 2. The sink reads exactly the topics the source writes.
  const engine = source["connector.class"].includes("sqlserver") ? "sqlserver" : "postgres";
  const database = source["database.names"] ?? source["database.dbname"];
  const names = pipelineNames({ topicPrefix: source["topic.prefix"] }, { engine, database });
  const written = source["table.include.list"].split(",").map(names.changeTopic).sort();
  expect.soft(sink.topics.split(",").sort(), `${s.stack}: the sink's topics`).toEqual(written);

  // 3. Replication factors fit the brokers deployed (-1: the brokers' own default, which always fits).
  const dlq = Number(sink["errors.deadletterqueue.topic.replication.factor"]);
  const changeTopics = Number(source["topic.creation.default.replication.factor"]);
  // The change topics and the dead-letter topic are created alike.
  expect.soft(changeTopics, `${s.stack}: change topics' and dead-letter topic's replication factors`).toBe(dlq);
  // The preflight asks the Kafka cluster for brokers enough for what the connectors create topics with.
  const [kafkaCluster] = dynamic(s, "KafkaCluster");
  expect.soft(kafkaCluster?.inputs.replicas, `${s.stack}: the preflight's replicas`).toEqual({
    count: Math.max(1, changeTopics),
    setBy: "pipeline.replicationFactor",
  });
  if (brokers !== undefined) {
    expect
      .soft(dlq === -1 || dlq <= brokers, `${s.stack}: dead-letter replication factor ${dlq}, ${brokers} broker(s)`)
      .toBe(true);
    for (const c of ofType(s, "docker:index/container:Container")) {
      for (const [key, value] of Object.entries(envOf(c)).filter(([k]) => k.endsWith("REPLICATION_FACTOR"))) {
        expect.soft(Number(value), `${s.stack}: ${c.name} ${key}`).toBeLessThanOrEqual(brokers);
      }
    }
  } else {
    const declared = (s.raw.pipeline as { replicationFactor?: number }).replicationFactor;
    expect
      .soft(dlq, `${s.stack}: external brokers: the stack's own replicationFactor, or the brokers' default`)
      .toBe(declared ?? -1);
  }

  // 4. TLS to SQL Server: the CDC resource, the connector and the operations commands agree.
  const site = {
    settings: parseStackSettings(s.raw, s.stack, new Set(SECRET_KEYS)),
    sourcePassword: "",
    targetPassword: "",
  } as unknown as StackSite;
  if (engine === "sqlserver") {
    const cdc = dynamic(s, "SqlServerCdc")[0].inputs;
    const ops = sourceConnection(site);
    const fromConnector = {
      encrypt: source["database.encrypt"] === "true",
      trustServerCertificate: source["database.trustServerCertificate"] === "true",
    };
    expect
      .soft(
        { encrypt: cdc.encrypt, trustServerCertificate: cdc.trustServerCertificate },
        `${s.stack}: TLS of SqlServerCdc`,
      )
      .toEqual(fromConnector);
    expect
      .soft(
        { encrypt: ops.encrypt, trustServerCertificate: ops.trustServerCertificate },
        `${s.stack}: TLS of the ops commands`,
      )
      .toEqual(fromConnector);
    expect
      .soft(`${ops.host}:${ops.port}`, `${s.stack}: the ops commands reach the source where SqlServerCdc does`)
      .toBe(hostPortOf(cdc));
  }

  // 5. Every secret a part is given is one the configuration requires (and so asks for when it is missing).
  let required: string[] = [];
  try {
    parseStackSettings(s.raw, s.stack, new Set());
  } catch (err) {
    required = (err as StackConfigError).problems.flatMap(
      (p) => p.match(/^cdc-pipeline:(\w+) is missing: a secret/)?.[1] ?? [],
    );
  }
  const text = JSON.stringify(s.registered.map((r) => r.inputs));
  const used = SECRET_KEYS.filter((key) => text.includes(placeholder(key)));
  expect
    .soft(used.sort(), `${s.stack}: the secrets the resources are given are the ones config requires`)
    .toEqual(required.sort());

  // 7. The backup container's job reaches what the containers declare, backs up what the connectors capture,
  // into the stack's bucket, through the directory SQL Server writes (one volume, mounted in both).
  const containers = ofType(s, "docker:index/container:Container");
  const backup = containers.find((c) => c.name.endsWith("-backup"));
  if (backup) {
    const upload = (backup.inputs.uploads as { file: string; content: string }[]).find(
      (u) => u.file === BACKUP_JOB_FILE,
    );
    const job = JSON.parse(upload?.content ?? "{}") as {
      source: { host: string; port: number; database: string };
      connectUrl: string;
      topicPrefix: string;
      tables: { schema: string; name: string }[];
      backups: {
        bucket: string;
        pushgateway: string;
        sqlServer?: { serverDirectory: string; localDirectory?: string };
      };
    };
    const jobAddresses: [string, string][] = [
      ["backup job source", `${job.source.host}:${job.source.port}`],
      ["backup job Connect", urlHostPort(job.connectUrl)],
      ["backup job Pushgateway", urlHostPort(job.backups.pushgateway)],
    ];
    for (const [part, address] of jobAddresses) {
      expect.soft([...fromWorkers], `${s.stack}: ${part} is ${address}`).toContain(address);
    }
    expect.soft(job.source.database, `${s.stack}: the backup job's database`).toBe(database);
    expect.soft(job.topicPrefix, `${s.stack}: the backup job's topic prefix`).toBe(source["topic.prefix"]);
    expect
      .soft(job.tables.map((t) => `${t.schema}.${t.name}`).join(","), `${s.stack}: the backup job's tables`)
      .toBe(source["table.include.list"]);
    expect.soft(job.backups.bucket, `${s.stack}: the backup job's bucket`).toBe(s.outputs.backupBucket);
    const mounts = (c: Registered | undefined) =>
      ((c?.inputs.volumes as { volumeName: string; containerPath: string }[] | undefined) ?? []).filter(
        (v) => v.containerPath === job.backups.sqlServer?.serverDirectory,
      );
    const sqlServer = containers.find((c) => c.name.endsWith("-sqlserver"));
    expect.soft(mounts(sqlServer), `${s.stack}: SQL Server mounts the backup directory`).toHaveLength(1);
    expect
      .soft(mounts(backup), `${s.stack}: the backup container mounts the same volume there`)
      .toEqual(mounts(sqlServer));
    expect
      .soft(job.backups.sqlServer?.localDirectory, `${s.stack}: the backup container reads it at the same path`)
      .toBe(job.backups.sqlServer?.serverDirectory);
  }

  // 8. The watch container watches the connectors the stack creates, on the Connect the workers' side
  // declares, and the containers' Prometheus scrapes its metrics port.
  const watch = containers.find((c) => c.name.endsWith("-watch"));
  if (watch) {
    const command = watch.inputs.command as string[];
    const flag = (name: string) => command.slice(command.indexOf(name) + 1);
    const watched = flag("--connector").slice(
      0,
      flag("--connector").findIndex((a) => a.startsWith("--")),
    );
    expect.soft(watched.sort(), `${s.stack}: the watch container's connectors`).toEqual(
      dynamic(s, "KafkaConnector")
        .map((r) => r.inputs.name as string)
        .sort(),
    );
    expect
      .soft([...fromWorkers], `${s.stack}: the watch container's Connect is ${flag("--connect-url")[0]}`)
      .toContain(urlHostPort(flag("--connect-url")[0]));
    const prometheus = containers.find((c) => c.name.endsWith("-prometheus"));
    const scrape = (prometheus?.inputs.uploads as { file: string; content: string }[] | undefined)?.find(
      (u) => u.file === "/etc/prometheus/prometheus.yml",
    )?.content;
    const aliases = (watch.inputs.networksAdvanced as { aliases: string[] }[]).flatMap((n) => n.aliases);
    expect
      .soft(scrape, `${s.stack}: Prometheus scrapes the watch container's metrics`)
      .toContain(`targets: ["${aliases[0]}:${flag("--metrics-port")[0]}"]`);
  }

  // 6. The policy pack's rules pass (the CLI cannot run the bucket rules here: no aws provider plugin).
  const resources = policyResources(s.stack, s.registered);
  expect.soft(bucketProblems(resources), `${s.stack}: the policy pack's bucket rules`).toEqual([]);
  const connectorProps = resources.filter((r) => r.type.endsWith(":KafkaConnector")).map((r) => r.props);
  expect
    .soft(connectorProps.flatMap(plaintextPasswordKeys), `${s.stack}: passwords in a connector's config`)
    .toEqual([]);
}

/**
 * The addresses of a committed DR stack that are one of its primary's site hosts (databases, Connect, Kafka,
 * the Docker host): each would fail a failover with the primary gone. The drill refuses them the same way.
 */
export function drAddressesOnPrimarySite(primaryStack: string, drStack: string): string[] {
  const settings = (stack: string) => parseStackSettings(committedSettings(stack), stack, new Set(SECRET_KEYS));
  const primaryHosts = new Set(
    stackAddresses(settings(primaryStack))
      .filter((a) => a.kind === "site")
      .map((a) => a.host),
  );
  return stackAddresses(settings(drStack))
    .filter((a) => primaryHosts.has(a.host))
    .map((a) => `${a.setting} ${a.address}`);
}

import { beforeAll, describe, expect, it } from "vitest";
import type { PipelineContainers } from "../../components/pipeline-containers";
import { allRegistered, outputOf, recordResources, type Registered, registeredOutputs, valueOf } from "./mocks";

let registered: Registered[];
let c: PipelineContainers;
beforeAll(async () => {
  registered = await recordResources("dev");
  const { PipelineContainers } = await import("../../components/pipeline-containers");
  // The Docker host and its public name as another resource (a machine) would give them.
  c = new PipelineContainers("services", {
    dockerHost: outputOf("machine-url", "ssh://deploy@docker-host"),
    publicHost: outputOf("machine-name", "docker-host"),
    targetDatabase: "warehouse",
    sqlServerPassword: "Sa-Secret-1",
    postgresPassword: "Pg-Secret-1",
    grafanaPassword: "Gf-Secret-1",
    deadLetterTopic: "inventory.dead-letter",
    rpoHours: 12,
  });
  await valueOf(c.endpoints);
  await allRegistered();
});

const containers = () => registered.filter((r) => r.type === "docker:index/container:Container");
const container = (svc: string) => containers().find((r) => r.name === `services-${svc}`)!;
const upload = (svc: string, file: string) =>
  (container(svc).inputs.uploads as { file: string; content: string }[]).find((u) => u.file === file)!.content;

describe("PipelineContainers", () => {
  it("uses the stack's Docker host and pinned images, on one network where each service has its name", () => {
    expect(registered.find((r) => r.type === "pulumi:providers:docker")?.inputs.host).toBe("ssh://deploy@docker-host");
    const images = registered
      .filter((r) => r.type === "docker:index/remoteImage:RemoteImage")
      .map((r) => r.inputs.name as string);
    expect(images).toHaveLength(9);
    for (const image of images) expect(image).toMatch(/:[\w.-]*\d[\w.-]*$/);
    expect(images).toContain("quay.io/debezium/connect:3.6.1.Final");
    expect(container("connect").inputs.networksAdvanced).toEqual([{ name: "services-net", aliases: ["connect"] }]);
  });

  it("runs SQL Server 2022 with its Agent, and waits for every database and broker to be healthy", () => {
    expect(container("sqlserver").inputs.envs).toEqual(
      expect.arrayContaining(["ACCEPT_EULA=Y", "MSSQL_AGENT_ENABLED=true"]),
    );
    for (const svc of ["sqlserver", "postgres", "kafka", "connect", "prometheus", "grafana"]) {
      expect(container(svc).inputs.wait, svc).toBe(true);
      expect((container(svc).inputs.healthcheck as { tests: string[] }).tests[0]).toBe("CMD-SHELL");
    }
    // The healthcheck reads the password from the container's environment, never holds it.
    expect(JSON.stringify(container("sqlserver").inputs.healthcheck)).not.toContain("Sa-Secret-1");
    expect(container("kafka").inputs.envs).toEqual(expect.arrayContaining(["KAFKA_PROCESS_ROLES=broker,controller"]));
  });

  it("gives Kafka an internal listener for the containers and an external one advertised at the public host", () => {
    expect(container("kafka").inputs.envs).toEqual(
      expect.arrayContaining([
        "KAFKA_LISTENERS=INTERNAL://:9092,EXTERNAL://:9094,CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS=INTERNAL://kafka:9092,EXTERNAL://docker-host:9094",
        "KAFKA_INTER_BROKER_LISTENER_NAME=INTERNAL",
        "KAFKA_DEFAULT_REPLICATION_FACTOR=1",
      ]),
    );
    expect(container("kafka").inputs.ports).toEqual([{ external: 9094, internal: 9094 }]);
    expect(container("connect").inputs.envs).toEqual(expect.arrayContaining(["BOOTSTRAP_SERVERS=kafka:9092"]));
    expect(container("postgres").inputs.envs).toEqual(expect.arrayContaining(["POSTGRES_DB=warehouse"]));
  });

  it("gives Prometheus the pipeline's alert rules and Grafana its datasource and dashboard", () => {
    const rules = upload("prometheus", "/etc/prometheus/alerts.yml");
    for (const alert of [
      "ConnectorDown",
      "ConnectorTaskFailed",
      "ReplicationLagHigh",
      "DeadLetterTopicGrowing",
      "BackupOlderThanRpo",
    ]) {
      expect(rules).toContain(`alert: ${alert}`);
    }
    expect(rules).toContain('topic="inventory.dead-letter"');
    expect(rules).toContain(`> ${12 * 3600}`);
    expect(upload("grafana", "/etc/grafana/provisioning/datasources/prometheus.yml")).toContain(
      "url: http://prometheus:9090",
    );
    const dashboard = JSON.parse(upload("grafana", "/var/lib/grafana/dashboards/cdc-pipeline.json")) as {
      panels: unknown[];
    };
    expect(dashboard.panels).toHaveLength(5);
  });

  it("publishes each address as an output that waits for its own container, and registers them all", async () => {
    const at = { sqlServer: "docker-host:1433", postgres: "docker-host:5432", kafka: "docker-host:9094" };
    expect(await valueOf(c.sqlServer)).toEqual({ host: "docker-host", port: 1433 });
    expect(await valueOf(c.postgres)).toEqual({ host: "docker-host", port: 5432 });
    expect(await valueOf(c.connectUrl)).toBe("http://docker-host:8083");
    expect(await valueOf(c.kafkaBootstrapServers)).toBe(at.kafka);
    expect(await valueOf(c.fromWorkers.sqlServer)).toEqual({ host: "sqlserver", port: 1433 });
    expect(await valueOf(c.fromWorkers.postgres)).toEqual({ host: "postgres", port: 5432 });
    expect(await valueOf(c.fromWorkers.kafkaBootstrap)).toBe("kafka:9092");
    expect(await valueOf(c.endpoints)).toMatchObject({ ...at, connect: "http://docker-host:8083" });
    expect(registeredOutputs("cdc-pipeline:index:PipelineContainers", "services")).toMatchObject({
      sqlServer: { host: "docker-host", port: 1433 },
      postgres: { host: "docker-host", port: 5432 },
      connectUrl: "http://docker-host:8083",
      kafkaBootstrapServers: at.kafka,
      fromWorkers: {
        sqlServer: { host: "sqlserver", port: 1433 },
        postgres: { host: "postgres", port: 5432 },
        kafkaBootstrap: "kafka:9092",
      },
      endpoints: at,
    });

    // A resource given one of the addresses waits for that address's container only.
    const before = registered.length;
    await Promise.all([
      valueOf(outputOf("uses-connect", c.connectUrl)),
      valueOf(outputOf("uses-sqlserver", c.fromWorkers.sqlServer)),
    ]);
    const [connect, sqlserver] = registered.slice(before).sort((a, b) => a.name.localeCompare(b.name));
    expect(connect.dependsOn).toEqual(expect.arrayContaining(["services-connect", "machine-name"]));
    expect(connect.dependsOn).not.toContain("services-sqlserver");
    expect(sqlserver.dependsOn).toContain("services-sqlserver");
    expect(sqlserver.dependsOn).not.toContain("services-connect");
  });

  it("advertises Kafka's external listener at the public host the machine's output gave", () => {
    expect(container("kafka").dependsOn).toContain("machine-name");
    expect(registered.find((r) => r.type === "pulumi:providers:docker")?.dependsOn).toContain("machine-url");
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { allRegistered, recordResources, type Registered, valueOf } from "./mocks";

let registered: Registered[];
beforeAll(async () => {
  registered = await recordResources("dev");
  const { PipelineContainers } = await import("../../components/pipeline-containers");
  const c = new PipelineContainers("services", {
    dockerHost: "ssh://deploy@docker-host",
    publicHost: "docker-host",
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
});

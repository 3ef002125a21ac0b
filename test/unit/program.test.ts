// The whole program under mocks with a primary-site configuration (the containers component aside).
import { expect, it } from "vitest";
import { bucketProblems, plaintextPasswordKeys } from "../../policy/rules";
import { allRegistered, policyResources, recordResources } from "./mocks";

it("composes containers, preflight, the SQL Server pipeline and the backup buckets from the stack's configuration", async () => {
  const registered = await recordResources("dev", {
    "cdc-pipeline:components": { containers: true, backups: true },
    "cdc-pipeline:docker": { host: "unix:///var/run/docker.sock" },
    "cdc-pipeline:grafanaPassword": "grafana-pw",
    "cdc-pipeline:aws": { primaryRegion: "eu-west-1", drRegion: "eu-central-1", lifecycle: { expireAfterDays: 730 } },
    "cdc-pipeline:kafkaConnect": {},
    "cdc-pipeline:pipeline": { topicPrefix: "inventory" },
    "cdc-pipeline:tables": [
      { schema: "dbo", name: "customers", columns: [{ name: "id", type: "integer" }], primaryKey: ["id"] },
    ],
    "cdc-pipeline:source": { engine: "sqlserver", database: "inventory", user: "cdc" },
    "cdc-pipeline:target": { database: "warehouse", user: "writer" },
    "cdc-pipeline:sourcePassword": "source-pw",
    "cdc-pipeline:targetPassword": "target-pw",
  });
  await import("../../index");
  await allRegistered();
  const types = registered.map((r) => r.type.replace(/^pulumi-nodejs:dynamic\//, ""));
  expect(types.filter((t) => t.startsWith("cdc-pipeline:")).sort()).toEqual([
    "cdc-pipeline:ConnectCluster",
    "cdc-pipeline:KafkaCluster",
    "cdc-pipeline:KafkaConnector",
    "cdc-pipeline:KafkaConnector",
    "cdc-pipeline:PostgresSchema",
    "cdc-pipeline:PostgresServer",
    "cdc-pipeline:SourceBackfill",
    "cdc-pipeline:SqlServerCdc",
    "cdc-pipeline:index:BackupStorage",
    "cdc-pipeline:index:CdcPipeline",
    "cdc-pipeline:index:PipelineContainers",
    "cdc-pipeline:index:Preflight",
  ]);
  // The nine services and the watch container (watch.container defaults to on).
  expect(
    registered
      .filter((r) => r.type === "docker:index/container:Container")
      .map((r) => r.name)
      .sort(),
  ).toEqual(
    ["connect", "grafana", "jmx-exporter", "kafka", "kafka-exporter", "postgres", "prometheus", "pushgateway"]
      .concat(["sqlserver", "watch"])
      .map((svc) => `services-${svc}`),
  );
  const providers = registered.filter((r) => r.type === "pulumi:providers:aws").map((r) => r.inputs.region);
  expect(providers).toEqual(["eu-west-1", "eu-central-1"]);
  const lifecycle = registered.find((r) => r.name === "backups-backup-lifecycle")!;
  expect((lifecycle.inputs.rules as { expiration: unknown }[])[0].expiration).toEqual({ days: 730 });
  const source = registered.find((r) => r.name === "pipeline-source")!;
  expect(source.inputs.config).toMatchObject({ "database.names": "inventory", "table.include.list": "dbo.customers" });

  // The pipeline is given the containers' addresses as their outputs: each part waits for the containers it uses.
  const named = (name: string) => registered.find((r) => r.name === name)!;
  expect(named("pipeline-cdc").dependsOn).toEqual(expect.arrayContaining(["services-sqlserver", "services-connect"]));
  expect(named("pipeline-schema").dependsOn).toContain("services-postgres");
  expect(source.dependsOn).toEqual(
    expect.arrayContaining(["services-sqlserver", "services-kafka", "services-connect"]),
  );
  expect(named("pipeline-sink").dependsOn).toEqual(expect.arrayContaining(["services-postgres", "services-connect"]));
  // The preflight check of the target is given its connection alone, not the rest of the target's settings.
  const targetCheck = Object.keys(named("pipeline-target").inputs).filter((k) => !k.startsWith("__"));
  expect(targetCheck.sort()).toEqual(["database", "host", "password", "port", "requiredSettings", "user"]);

  // The policy pack's rules pass on what the dev program declares (the CLI cannot run the bucket rules here).
  const resources = policyResources("dev", registered);
  expect(resources.filter((r) => r.type === "aws:s3/bucket:Bucket")).toHaveLength(2);
  expect(bucketProblems(resources)).toEqual([]);
  const connectors = resources.filter((r) => r.type.endsWith(":KafkaConnector"));
  expect(connectors.flatMap((r) => plaintextPasswordKeys(r.props))).toEqual([]);
});

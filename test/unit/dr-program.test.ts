// The DR stack's program under mocks: its region, and what it reads from the primary stack.
import { expect, it } from "vitest";
import { recordResources, valueOf } from "./mocks";

it("puts the DR stack's buckets in the DR region first and reads the primary's replica bucket by StackReference", async () => {
  const registered = await recordResources(
    "dr",
    {
      "cdc-pipeline:components": { containers: false, backups: true },
      "cdc-pipeline:aws": { primaryRegion: "us-west-2", drRegion: "us-east-1" },
      "cdc-pipeline:failover": { primaryStack: "acme/cdc-pipeline/dev" },
      "cdc-pipeline:kafkaConnect": { url: "http://dr-docker-host:8083", bootstrapServers: "dr-docker-host:9092" },
      "cdc-pipeline:pipeline": { topicPrefix: "inventory", snapshotMode: "initial", rebuild: "failover" },
      "cdc-pipeline:tables": [
        { schema: "dbo", name: "customers", columns: [{ name: "id", type: "integer" }], primaryKey: ["id"] },
      ],
      "cdc-pipeline:source": {
        engine: "sqlserver",
        host: "dr-docker-host",
        port: 1433,
        database: "inventory",
        user: "sa",
      },
      "cdc-pipeline:target": { host: "dr-docker-host", port: 5432, database: "warehouse", user: "postgres" },
      "cdc-pipeline:sourcePassword": "source-pw",
      "cdc-pipeline:targetPassword": "target-pw",
    },
    { "acme/cdc-pipeline/dev": { replicaBucket: "cdc-dev-replica-0a1b2c" } },
  );
  const program = (await import("../../index")) as { restoreFromBucket?: import("@pulumi/pulumi").Output<unknown> };
  expect(await valueOf(program.restoreFromBucket!)).toBe("cdc-dev-replica-0a1b2c");
  for (let i = 0; i < 200 && registered.filter((r) => r.type === "pulumi:providers:aws").length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(registered.find((r) => r.type === "pulumi:pulumi:StackReference")?.inputs.name).toBe("acme/cdc-pipeline/dev");
  expect(registered.filter((r) => r.type === "pulumi:providers:aws").map((r) => [r.name, r.inputs.region])).toEqual([
    ["backups-primary", "us-west-2"],
    ["backups-dr", "us-east-1"],
  ]);
  // The connectors rebuild the target from a snapshot of the restored source, into emptied tables.
  const source = registered.find((r) => r.name === "pipeline-source");
  expect((source?.inputs.config as Record<string, string>)["snapshot.mode"]).toBe("initial");
  expect(source?.inputs.offsetsResetToken).toBe("failover");
  expect(registered.find((r) => r.name === "pipeline-schema")?.inputs.rebuildToken).toBe("failover");
});

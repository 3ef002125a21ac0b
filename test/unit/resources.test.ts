// Every dynamic resource serializes its provider (as the CLI stores it in the state) without capturing a
// secret, and registers its inputs under the type the state will show.
import { beforeAll, describe, expect, it } from "vitest";
import { recordResources, type Registered, valueOf } from "./mocks";

let registered: Registered[];
beforeAll(async () => {
  registered = await recordResources("unit");
});

const SECRET = "never-in-the-provider-code";
const pg = { host: "db", port: 5432, database: "d", user: "u", password: SECRET };

describe("dynamic resources", () => {
  it("serialize their providers without secrets", async () => {
    const { KafkaConnector } = await import("../../providers/kafka-connector");
    const { PostgresCdc } = await import("../../providers/postgres-cdc");
    const { PostgresSchema } = await import("../../providers/postgres-schema");
    const { SqlServerCdc } = await import("../../providers/sqlserver-cdc");
    const resources = [
      new KafkaConnector("k", {
        cluster: { url: "http://c:8083", password: SECRET },
        config: { "connector.class": "x" },
        sensitiveConfig: { "database.password": SECRET },
      }),
      new PostgresCdc("p", { ...pg, publication: "pub", tables: [{ schema: "s", name: "t" }] }),
      new PostgresSchema("s", { ...pg, schema: "s", tables: [] }),
      new SqlServerCdc("m", { host: "h", database: "d", user: "sa", password: SECRET, tables: [] }),
    ];
    await Promise.all(resources.map((r) => valueOf(r.urn)));
    const types = registered.map((r) => r.type);
    for (const type of ["KafkaConnector", "PostgresCdc", "PostgresSchema", "SqlServerCdc"]) {
      expect(types).toContain(`pulumi-nodejs:dynamic/cdc-pipeline:${type}`);
    }
    for (const r of registered) {
      expect(typeof r.inputs.__provider).toBe("string");
      expect(r.inputs.__provider as string).not.toContain(SECRET);
    }
    expect(registered.find((r) => r.name === "k")?.inputs.name).toBe("k");
  });
});

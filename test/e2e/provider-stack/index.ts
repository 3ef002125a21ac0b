// One PostgresServer on the harness's source, deployed by test/e2e/installed-provider.test.ts from a copy
// of the project whose provider code the test then changes.
import * as pulumi from "@pulumi/pulumi";
import { PostgresServer } from "../../../providers/postgres-server";

const config = new pulumi.Config();
const server = new PostgresServer("source", {
  host: "127.0.0.1",
  port: config.requireNumber("port"),
  database: "cdc_source",
  user: "postgres",
  password: config.requireSecret("password"),
  requiredSettings: { wal_level: "logical" },
});

export const serverVersion = server.serverVersion;

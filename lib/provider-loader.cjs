// Loads a dynamic provider's implementation from the installed project. The shim that every dynamic resource
// serializes into its state (lib/installed-provider.ts) calls this file, so check, diff, create, read, update
// and delete always run the code installed now, not a copy stored in the state (pulumi/pulumi#6238).
//
// It runs in the CLI's dynamic-provider host: plain Node, started in the program's directory, without
// ts-node. So it registers ts-node itself (the compiler the program runs under; types unchecked, `npm test`
// checks them), once per host process. Plain JavaScript, so that nothing has to be built first.
"use strict";
const path = require("node:path");

const projectRoot = path.join(__dirname, "..");

// The state records only the resource type; this maps it to the module and export that implement it.
// A type (and so its provider file) is never removed or renamed while a state may hold it.
const IMPLEMENTATIONS = {
  ConnectCluster: ["providers/connect-cluster.ts", "connectClusterProvider"],
  KafkaCluster: ["providers/kafka-cluster.ts", "kafkaClusterProvider"],
  KafkaConnector: ["providers/kafka-connector.ts", "kafkaConnectorProvider"],
  PostgresCdc: ["providers/postgres-cdc.ts", "postgresCdcProvider"],
  PostgresSchema: ["providers/postgres-schema.ts", "postgresSchemaProvider"],
  PostgresServer: ["providers/postgres-server.ts", "postgresServerProvider"],
  SourceBackfill: ["providers/source-backfill.ts", "sourceBackfillProvider"],
  SqlServerCdc: ["providers/sqlserver-cdc.ts", "sqlServerCdcProvider"],
};

let compilerRegistered = false;

/** The provider object that implements the resource type `type`. */
function loadProvider(type) {
  const implementation = IMPLEMENTATIONS[type];
  if (!implementation) {
    throw new Error(
      `cdc-pipeline: no provider implements '${type}' (known: ${Object.keys(IMPLEMENTATIONS).join(", ")})`,
    );
  }
  if (!compilerRegistered && !require.extensions[".ts"]) {
    require("ts-node").register({ transpileOnly: true, project: path.join(projectRoot, "tsconfig.json") });
  }
  compilerRegistered = true;
  const [modulePath, exportName] = implementation;
  return require(path.join(projectRoot, modulePath))[exportName];
}

module.exports = { IMPLEMENTATIONS, loadProvider };

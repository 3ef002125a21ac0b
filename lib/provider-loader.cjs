// Loads a dynamic provider's implementation from the installed project. The shim that every dynamic resource
// serializes into its state (lib/installed-provider.ts) calls this file, so check, diff, create, read, update
// and delete always run the code installed now, not a copy stored in the state (pulumi/pulumi#6238).
//
// It runs in the CLI's dynamic-provider host: plain Node, started in the project's directory, without
// ts-node. So it registers ts-node itself (the same compiler the program runs under, types unchecked:
// `npm test` checks them), once per host process. Plain JavaScript, so that nothing has to be built first.
"use strict";
const path = require("node:path");

const projectRoot = path.join(__dirname, "..");
let compilerRegistered = false;

/** The provider object `exportName` of the project module `modulePath` (relative to the project root). */
function loadProvider(modulePath, exportName) {
  if (!compilerRegistered && !require.extensions[".ts"]) {
    require("ts-node").register({ transpileOnly: true, project: path.join(projectRoot, "tsconfig.json") });
  }
  compilerRegistered = true;
  const provider = require(path.join(projectRoot, modulePath))[exportName];
  if (!provider || typeof provider.create !== "function") {
    throw new Error(
      `cdc-pipeline: ${modulePath} exports no dynamic provider '${exportName}'. A resource in the state names ` +
        `it; restore that export (a provider's file and export names are part of its state).`,
    );
  }
  return provider;
}

module.exports = { loadProvider };

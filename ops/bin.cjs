#!/usr/bin/env node
// Entry point of the `cdc-pipeline` command (package.json "bin"): runs the TypeScript CLI through ts-node,
// type checks left to `npm test` so that it starts fast.
require("ts-node").register({
  transpileOnly: true,
  project: require("node:path").join(__dirname, "..", "tsconfig.json"),
});
require("./cli.ts");

// This program runs in its own directory: the dynamic-provider shims (lib/installed-provider.ts) load
// the project's providers through this file.
module.exports = require("../../../../lib/provider-loader.cjs");

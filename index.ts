// The program: reads the stack's typed configuration and composes the components it switches on.
import { loadStackConfig } from "./config";
import { Preflight } from "./components/preflight";

const config = loadStackConfig();

const preflight = new Preflight("pipeline", {
  connectUrl: config.kafkaConnect.url,
  sourceEngine: config.source.engine,
  source: { ...config.source, password: config.secrets.sourcePassword },
  target: { ...config.target, password: config.secrets.targetPassword },
  extraPlugins: config.kafkaConnect.requiredPlugins,
});

export const connectVersion = preflight.connect.version;
export const kafkaClusterId = preflight.connect.kafkaClusterId;
export const connectPlugins = preflight.connect.plugins;
export const sourceServerVersion = preflight.sourceServer?.serverVersion;
export const targetServerVersion = preflight.targetServer.serverVersion;

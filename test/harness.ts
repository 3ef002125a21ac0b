// The harness's endpoints, as `scripts/services.sh env` prints them, for integration and e2e tests.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";

export const PROJECT_DIR = path.resolve(__dirname, "..");

function harnessEnv(): Record<string, string> {
  const text = execFileSync("bash", [path.join(PROJECT_DIR, "scripts/services.sh"), "env"], { encoding: "utf8" });
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/^export (\w+)="?([^"\n]*)"?$/gm)) env[match[1]] = match[2];
  return env;
}

const env = harnessEnv();

export const harness = {
  env,
  connectUrl: env.CDC_CONNECT_URL,
  pgPassword: readFileSync(env.CDC_PG_PASSWORD_FILE, "utf8").trim(),
  source: {
    host: env.CDC_PG_HOST,
    port: Number(env.CDC_PG_SOURCE_PORT),
    database: env.CDC_PG_SOURCE_DATABASE,
    user: env.CDC_PG_USER,
  },
  target: {
    host: env.CDC_PG_HOST,
    port: Number(env.CDC_PG_TARGET_PORT),
    database: env.CDC_PG_TARGET_DATABASE,
    user: env.CDC_PG_USER,
  },
};

/** A port on which nothing listens (the discard port is never served on these machines). */
export const CLOSED_PORT = 9;

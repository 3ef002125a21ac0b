// The harness's endpoints, as `scripts/services.sh env` prints them, for integration and e2e tests.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { SqlServerConnection } from "../lib/sqlserver";

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
  // Read when used: the two-site tests import this module after the one-site harness has stopped.
  get pgPassword(): string {
    return readFileSync(env.CDC_PG_PASSWORD_FILE, "utf8").trim();
  },
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

/**
 * The environment scripts/pulumi.sh runs the CLI in (Node 22 and the CLI first on PATH, offline settings,
 * the harness passphrase), with the given state backend: for the Automation API.
 */
export function pulumiEnv(backendUrl: string): Record<string, string> {
  const dump = execFileSync(
    "bash",
    ["-c", "source scripts/lib/common.sh && source scripts/lib/pulumi-env.sh && env -0"],
    {
      cwd: PROJECT_DIR,
      env: { ...process.env, PULUMI_BACKEND_URL: backendUrl },
      encoding: "utf8",
    },
  );
  return Object.fromEntries(
    dump
      .split("\0")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

/** A SQL Server connection from MSSQL_URL (mssql://user:password@host:port/database?trustServerCertificate=true). */
export function mssqlConnection(raw: string): SqlServerConnection {
  const u = new URL(raw);
  return {
    host: u.hostname,
    port: Number(u.port || 1433),
    database: u.pathname.slice(1),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    encrypt: u.searchParams.get("encrypt") !== "false",
    trustServerCertificate: u.searchParams.get("trustServerCertificate") === "true",
  };
}

/** A port on which nothing listens (the discard port is never served on these machines). */
export const CLOSED_PORT = 9;

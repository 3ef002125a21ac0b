// The two sites of scripts/sites.sh, for the two-site tests: starting and stopping them, their endpoints, and
// the machine's network state they must leave as they found it.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";

/** Not test/harness.ts's: that one reads the one-site harness's files, which need not exist here. */
const SCRIPT = path.resolve(__dirname, "../../scripts/sites.sh");

export type SiteName = "primary" | "dr";

/**
 * Runs scripts/sites.sh; its exit status and output (bounded: a start takes a minute or two). `services`: what
 * each site runs (CDC_SITES_SERVICES), by default all; `env`: variables to set besides (CDC_SITES_DIR, say).
 */
export function sites(
  args: string[],
  services?: string,
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const vars = { ...process.env, ...(services ? { CDC_SITES_SERVICES: services } : {}), ...env };
  const run = spawnSync("bash", [SCRIPT, ...args], { encoding: "utf8", timeout: 600_000, env: vars });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The endpoints `scripts/sites.sh env` prints. */
export function sitesEnv(): Record<string, string> {
  const text = execFileSync("bash", [SCRIPT, "env"], { encoding: "utf8" });
  return Object.fromEntries([...text.matchAll(/^export (\w+)="?([^"\n]*)"?$/gm)].map((m) => [m[1], m[2]]));
}

/** A site's address and its services' endpoints. */
export function site(name: SiteName) {
  const env = sitesEnv();
  const upper = name.toUpperCase();
  const host = env[`CDC_SITE_${upper}_ADDR`];
  return {
    host,
    netns: env[`CDC_SITE_${upper}_NETNS`],
    pgPassword: readFileSync(path.join(env.CDC_SITES_DIR, name, "pg-password"), "utf8").trim(),
    source: { host, port: 5432, database: "cdc_source", user: "postgres" },
    target: { host, port: 5433, database: "cdc_target", user: "postgres" },
    kafka: `${host}:9092`,
    connectUrls: env[`CDC_SITE_${upper}_CONNECT_URLS`].split(" "),
  };
}

/** What of the machine's network the sites may touch: namespaces, links, routes, loopback's addresses. */
export function networkState(): { netns: string[]; links: string[]; routes: string[]; loopback: string[] } {
  const lines = (cmd: string[]) =>
    execFileSync(cmd[0], cmd.slice(1), { encoding: "utf8" })
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  return {
    netns: lines(["ip", "netns", "list"]).map((l) => l.split(" ")[0]),
    links: lines(["ip", "-o", "link"]).map((l) => l.split(":")[1].trim().split("@")[0]),
    routes: lines(["ip", "route", "show", "table", "all"]),
    loopback: lines(["ip", "-o", "addr", "show", "dev", "lo"]).map((l) => l.split(/\s+/)[3]),
  };
}

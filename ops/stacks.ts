// A stack as the operations commands see it: its Automation API handle, its validated settings and the
// database passwords from its secret config (kept in memory, never printed).
import { LocalWorkspace, type LocalWorkspaceOptions, type Stack } from "@pulumi/pulumi/automation";
import { parseStackSettings, PROJECT, SECRET_KEYS, type StackSettings } from "../config";
import type { PostgresConnection } from "../lib/postgres";
import type { SqlServerConnection } from "../lib/sqlserver";

export interface StackSite {
  /** The Automation API stack, in the project's directory. */
  readonly stack: Stack;
  readonly settings: StackSettings;
  readonly sourcePassword: string;
  readonly targetPassword: string;
}

/** Where the project lives and the environment the CLI runs in (backend, passphrase, PATH). */
export interface ProjectWorkspace {
  readonly workDir: string;
  readonly envVars?: Record<string, string>;
}

const workspaceOptions = (project: ProjectWorkspace): LocalWorkspaceOptions => ({
  workDir: project.workDir,
  envVars: project.envVars,
});

/** Selects (creating when missing) the stack and reads its configuration. */
export async function openStack(project: ProjectWorkspace, stackName: string): Promise<StackSite> {
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, workDir: project.workDir },
    workspaceOptions(project),
  );
  const config = await stack.getAllConfig();
  const raw: Record<string, unknown> = {};
  const secrets = new Map<string, string>();
  for (const [key, { value }] of Object.entries(config)) {
    if (!key.startsWith(`${PROJECT}:`)) continue;
    const name = key.slice(PROJECT.length + 1);
    if ((SECRET_KEYS as readonly string[]).includes(name)) secrets.set(name, value);
    else raw[name] = parseValue(value);
  }
  const settings = parseStackSettings(raw, stackName, new Set(secrets.keys()));
  return {
    stack,
    settings,
    sourcePassword: secrets.get("sourcePassword") ?? "",
    targetPassword: secrets.get("targetPassword") ?? "",
  };
}

/** Structured values come back as JSON text; plain ones as text. */
function parseValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export const targetConnection = (site: StackSite): PostgresConnection => ({
  ...site.settings.target,
  password: site.targetPassword,
});

export const sourceConnection = (site: StackSite) => ({ ...site.settings.source, password: site.sourcePassword });

/** A SQL Server source: encrypted; the containers' self-signed certificate is accepted. */
export const sqlServerSource = (site: StackSite): SqlServerConnection => ({
  ...sourceConnection(site),
  encrypt: true,
  trustServerCertificate: site.settings.components.containers,
});

/** Connection settings given on the command line instead of the stack's (a restored copy, a replica). */
export interface ConnectionFlags {
  /** postgres://user@host:port/database or sqlserver://user@host:port/database. */
  readonly sourceUrl?: string;
  /** postgres://user@host:port/database[?schema=name]. */
  readonly targetUrl?: string;
}

/** Where each side's password comes from when its URL is given: never the URL (ps, shell history). */
export const PASSWORD_ENV = { source: "CDC_SOURCE_PASSWORD", target: "CDC_TARGET_PASSWORD" } as const;

const ENGINES: Record<string, { engine: "postgres" | "sqlserver"; port: number }> = {
  "postgres:": { engine: "postgres", port: 5432 },
  "postgresql:": { engine: "postgres", port: 5432 },
  "sqlserver:": { engine: "sqlserver", port: 1433 },
};

function parseConnectionUrl(side: "source" | "target", text: string) {
  const flag = `--${side}-url`;
  const example = `${side === "source" ? "postgres:// or sqlserver://" : "postgres://"}user@host:port/database`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${flag}: not a URL; expected ${example}`);
  }
  const kind = ENGINES[url.protocol];
  if (!kind || (side === "target" && kind.engine !== "postgres")) throw new Error(`${flag}: expected ${example}`);
  if (url.password) {
    throw new Error(`${flag}: must not carry a password (ps and shell history show it); set ${PASSWORD_ENV[side]}`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!url.username || !url.hostname || !database)
    throw new Error(`${flag}: needs a user, a host and a database; expected ${example}`);
  return {
    engine: kind.engine,
    host: url.hostname,
    port: url.port ? Number(url.port) : kind.port,
    database,
    user: decodeURIComponent(url.username),
    schema: url.searchParams.get("schema") ?? undefined,
  };
}

/** The site with its source and/or target replaced by the flags' (passwords from PASSWORD_ENV, else the stack's). */
export function withConnectionFlags(
  site: StackSite,
  flags: ConnectionFlags,
  env: Record<string, string | undefined> = process.env,
): StackSite {
  let { settings, sourcePassword, targetPassword } = site;
  if (flags.sourceUrl) {
    const { schema: _ignored, ...source } = parseConnectionUrl("source", flags.sourceUrl);
    settings = { ...settings, source };
    sourcePassword = env[PASSWORD_ENV.source] ?? sourcePassword;
  }
  if (flags.targetUrl) {
    const { engine: _postgres, schema, ...target } = parseConnectionUrl("target", flags.targetUrl);
    settings = { ...settings, target: { ...target, schema: schema ?? settings.target.schema } };
    targetPassword = env[PASSWORD_ENV.target] ?? targetPassword;
  }
  return { ...site, settings, sourcePassword, targetPassword };
}

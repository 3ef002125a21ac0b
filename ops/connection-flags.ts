// Databases named on the command line instead of the stack's (a restored copy, the DR site's databases
// reached from elsewhere). Checked like the stack's own settings before anything runs; passwords come from
// the environment: a URL's would show in `ps` and shell history.
import type { z } from "zod";
import { sourceSchema, targetSchema } from "../config";
import type { StackSite } from "./stacks";

export interface ConnectionFlags {
  /** postgres://user@host:port/database or sqlserver://user@host:port/database. */
  readonly sourceUrl?: string;
  /** postgres://user@host:port/database[?schema=name]. */
  readonly targetUrl?: string;
}

/** Where each side's password comes from when its URL is given. */
export const PASSWORD_ENV = { source: "CDC_SOURCE_PASSWORD", target: "CDC_TARGET_PASSWORD" } as const;

const SCHEMES: Record<string, { engine: "postgres" | "sqlserver"; port: number }> = {
  "postgres:": { engine: "postgres", port: 5432 },
  "postgresql:": { engine: "postgres", port: 5432 },
  "sqlserver:": { engine: "sqlserver", port: 1433 },
};

type PipelineSide = "source" | "target";
const EXAMPLE: Record<PipelineSide, string> = {
  source: "postgres:// or sqlserver://user@host:port/database",
  target: "postgres://user@host:port/database[?schema=name]",
};
/** The target's schema may be left to the stack's; every other field is checked as in the stack config. */
const flaggedTargetSchema = targetSchema.extend({ schema: targetSchema.shape.schema.unwrap().optional() });

/** The URL's fields, unchecked. */
function urlFields(side: PipelineSide, text: string): Record<string, unknown> {
  const flag = `--${side}-url`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${flag}: not a URL; expected ${EXAMPLE[side]}`);
  }
  const scheme = SCHEMES[url.protocol];
  if (!scheme || (side === "target" && scheme.engine !== "postgres"))
    throw new Error(`${flag}: expected ${EXAMPLE[side]}`);
  if (url.password) {
    throw new Error(`${flag}: must not carry a password (ps and shell history show it); set ${PASSWORD_ENV[side]}`);
  }
  const allowed = side === "target" ? ["schema"] : [];
  const unknown = [...url.searchParams.keys()].filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new Error(`${flag}: unknown parameter ${unknown.join(", ")}; allowed: ${allowed.join(", ") || "none"}`);
  }
  return {
    ...(side === "source" ? { engine: scheme.engine } : {}),
    // An IPv6 address comes back in brackets; the drivers take it bare.
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port ? Number(url.port) : scheme.port,
    database: decodeURIComponent(url.pathname.replace(/^\//, "")),
    user: decodeURIComponent(url.username),
    ...(url.searchParams.has("schema") ? { schema: url.searchParams.get("schema") } : {}),
  };
}

/** The URL's fields checked as the stack config's are; errors name the flag and the field. */
function parseUrl<T>(side: PipelineSide, text: string, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(urlFields(side, text));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "url"} ${issue.message}`);
    throw new Error(`--${side}-url: ${problems.join("; ")}; expected ${EXAMPLE[side]}`);
  }
  return parsed.data;
}

export interface ConnectionOverrides {
  readonly source?: z.infer<typeof sourceSchema>;
  readonly target?: z.infer<typeof flaggedTargetSchema>;
}

/** Checks the flags; throws naming the flag and what it takes. Run it before opening the stack. */
export function parseConnectionFlags(flags: ConnectionFlags): ConnectionOverrides {
  return {
    ...(flags.sourceUrl ? { source: parseUrl("source", flags.sourceUrl, sourceSchema) } : {}),
    ...(flags.targetUrl ? { target: parseUrl("target", flags.targetUrl, flaggedTargetSchema) } : {}),
  };
}

const sameServer = (a: { host: string; port: number; database: string }, b: typeof a) =>
  a.host === b.host && a.port === b.port && a.database === b.database;

/**
 * The password for a side named by a flag: its environment variable, else the stack's, but the stack's only
 * for the stack's own database: it is never sent to a server the stack does not name.
 */
function password(
  side: PipelineSide,
  override: { host: string; port: number; database: string },
  site: StackSite,
  env: Record<string, string | undefined>,
): string {
  const fromEnv = env[PASSWORD_ENV[side]];
  if (fromEnv !== undefined) return fromEnv;
  if (sameServer(override, site.settings[side])) return side === "source" ? site.sourcePassword : site.targetPassword;
  throw new Error(
    `--${side}-url names another database than the stack's ${side}: set ${PASSWORD_ENV[side]} ` +
      "(the stack's password is only sent to the stack's own database)",
  );
}

/**
 * A SQL Server named by a flag is reached with the stack's TLS settings when the stack's source is a SQL
 * Server too, else with TLS on and only trusted certificates; a PostgreSQL source without TLS, as the stack's.
 */
function flaggedTls(
  engine: "sqlserver" | "postgres",
  stackSource: StackSite["settings"]["source"],
): { encrypt: boolean; trustServerCertificate: boolean } {
  if (engine === "postgres") return { encrypt: false, trustServerCertificate: false };
  if (stackSource.engine === "sqlserver") {
    return { encrypt: stackSource.encrypt, trustServerCertificate: stackSource.trustServerCertificate };
  }
  return { encrypt: true, trustServerCertificate: false };
}

/** The site with its source and/or target replaced. */
export function applyConnections(
  site: StackSite,
  overrides: ConnectionOverrides,
  env: Record<string, string | undefined> = process.env,
): StackSite {
  const { source, target } = overrides;
  return {
    ...site,
    settings: {
      ...site.settings,
      ...(source ? { source: { ...source, ...flaggedTls(source.engine, site.settings.source) } } : {}),
      ...(target ? { target: { ...target, schema: target.schema ?? site.settings.target.schema } } : {}),
    },
    sourcePassword: source ? password("source", source, site, env) : site.sourcePassword,
    targetPassword: target ? password("target", target, site, env) : site.targetPassword,
  };
}

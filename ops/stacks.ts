// A stack as the operations commands see it: its Automation API handle, its validated settings and the
// database passwords from its secret config (kept in memory, never printed).
import { LocalWorkspace, type LocalWorkspaceOptions, Stack } from "@pulumi/pulumi/automation";
import { parseStackSettings, PROJECT, SECRET_KEYS, type StackSettings } from "../config";
import type { PostgresConnection } from "../lib/postgres";
import type { SourceDatabase } from "../lib/source-database";
import type { SqlServerConnection } from "../lib/sqlserver";
import type { S3Client } from "@aws-sdk/client-s3";
import { s3Client, type BackupSource } from "../lib/backup-objects";

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

/**
 * Selects an existing stack and reads its configuration. It never creates one: a stack name that the
 * backend does not list (a typo, another backend) fails, naming the stacks there are.
 */
export async function openStack(project: ProjectWorkspace, stackName: string): Promise<StackSite> {
  const workspace = await LocalWorkspace.create(workspaceOptions(project));
  const names = (await workspace.listStacks()).map((s) => s.name).sort();
  // A backend may list a stack by its short name or by its fully qualified one (org/project/stack).
  const listed = (name: string) =>
    name === stackName || name.endsWith(`/${stackName}`) || stackName.endsWith(`/${name}`);
  if (!names.some(listed)) throw new Error(`no stack '${stackName}' (stacks: ${names.join(", ") || "none"})`);
  const stack = await Stack.select(stackName, workspace);
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

/**
 * The source database with its password, for either engine: a SQL Server source carries the TLS settings the
 * program uses too (config.ts settles them); a PostgreSQL one has them off, and pg takes no notice of them.
 */
export const sourceConnection = (site: StackSite): PostgresConnection & SqlServerConnection => ({
  ...site.settings.source,
  password: site.sourcePassword,
});

/** The stack's source database with its engine: what signals are written to and reconcile reads. */
export const sourceDatabase = (site: StackSite): SourceDatabase => ({
  ...sourceConnection(site),
  engine: site.settings.source.engine,
});

/** A bucket and the S3-compatible endpoint it is reached at (none: AWS). */
export interface BucketLocation {
  readonly bucket: string;
  readonly endpoint?: string;
}

/** The buckets of a stack: its backups, their DR copy, and on a DR stack the primary's copy it restores from. */
export interface StackBuckets {
  readonly backup?: BucketLocation;
  readonly replica?: BucketLocation;
  readonly restoreFrom?: BucketLocation;
}

/**
 * The stack's buckets as its outputs name them (`pulumi up` has run), else as its config does (an existing
 * bucket named in backups.bucket, for a stack not deployed yet).
 */
export async function stackBuckets(site: StackSite): Promise<StackBuckets> {
  const outputs = await site.stack.outputs();
  const text = (name: string) => {
    const value = outputs[name]?.value as unknown;
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const at = (bucket?: string, endpoint?: string) => (bucket ? { bucket, endpoint } : undefined);
  const { backups } = site.settings;
  return {
    backup: at(text("backupBucket") ?? backups.bucket, text("backupEndpoint") ?? backups.endpoint),
    replica: at(
      text("replicaBucket") ?? backups.replicaBucket,
      text("replicaEndpoint") ?? backups.replicaEndpoint ?? backups.endpoint,
    ),
    restoreFrom: at(text("restoreFromBucket"), text("restoreFromEndpoint")) ?? (await primaryReplica(site)),
  };
}

/**
 * What a DR stack's StackReference reads, before its first `up` has exported it: the primary stack's replica
 * bucket, from the state backend (not from the primary region, which may be down).
 */
async function primaryReplica(site: StackSite): Promise<BucketLocation | undefined> {
  const primary = site.settings.failover?.primaryStack;
  if (!primary) return undefined;
  const outputs = await site.stack.workspace.stackOutputs(primary);
  const bucket = outputs.replicaBucket?.value as string | undefined;
  return bucket ? { bucket, endpoint: outputs.replicaEndpoint?.value as string | undefined } : undefined;
}

/** An S3 client for a stack's bucket at an endpoint (none: AWS), in the stack's primary region when it names one. */
export function bucketClient(site: StackSite, endpoint?: string): S3Client {
  return s3Client({ region: site.settings.aws?.primaryRegion, endpoint });
}

/** The backups in one of a stack's buckets, named by the stack's key template. */
export function backupSource(site: StackSite, location: BucketLocation): BackupSource {
  return {
    client: bucketClient(site, location.endpoint),
    bucket: location.bucket,
    keyTemplate: site.settings.backups.keyTemplate,
  };
}

/** A host a stack reaches, and the setting that names it. */
export interface StackAddress {
  /** The setting, as config.ts names it: source.host, kafkaConnect.url, backups.endpoint, ... */
  readonly setting: string;
  /** A part of the site (databases, Connect, Kafka, the Docker host), or storage that may live outside it (S3). */
  readonly kind: "site" | "storage";
  readonly host: string;
  /** host:port, or the URL, for messages. */
  readonly address: string;
}

/**
 * Every host a stack's program and commands reach: the databases, Connect, Kafka, the Docker host, and the S3
 * endpoints it names (AWS's own are regional: the drill checks regions instead).
 */
export function stackAddresses(settings: StackSettings): StackAddress[] {
  const url = (setting: string, value: string | undefined, kind: StackAddress["kind"] = "site"): StackAddress[] => {
    if (!value) return [];
    const host = new URL(value).hostname.replace(/^\[(.*)\]$/, "$1");
    return host ? [{ setting, kind, host, address: value }] : [];
  };
  const hostPort = (setting: string, value: string): StackAddress => {
    const host = value.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
    return { setting, kind: "site", host, address: value };
  };
  const { source, target, kafkaConnect, docker, backups, components } = settings;
  return [
    hostPort("source.host", `${source.host}:${source.port}`),
    hostPort("target.host", `${target.host}:${target.port}`),
    ...url("kafkaConnect.url", kafkaConnect.url),
    ...kafkaConnect.bootstrapServers.split(",").map((s) => hostPort("kafkaConnect.bootstrapServers", s.trim())),
    ...(components.containers && docker && !docker.host.startsWith("unix://") ? url("docker.host", docker.host) : []),
    ...url("backups.endpoint", backups.endpoint, "storage"),
    ...url("backups.replicaEndpoint", backups.replicaEndpoint, "storage"),
  ];
}

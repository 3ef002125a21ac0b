// The stack configuration: one schema for every key of every stack, read and validated before any
// resource is declared. Errors name the key, what is allowed and the `pulumi config set` that fixes it.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

export const PROJECT = "cdc-pipeline";

const port = z.number().int().min(1).max(65535);
const identifier = z.string().min(1).max(63);

/** A database server the pipeline reads from or writes to. Its password is a separate secret key. */
const databaseSchema = z.strictObject({
  host: z.string().min(1),
  port,
  database: identifier,
  user: identifier,
});

export const sourceSchema = databaseSchema.extend({
  engine: z.enum(["sqlserver", "postgres"]),
  /** A least-privilege login the pipeline creates for the source connector (password: connectorPassword). */
  connectorUser: identifier.optional(),
});

export const targetSchema = databaseSchema.extend({
  schema: identifier.default("public"),
});

const kafkaConnectSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  bootstrapServers: z.string().regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, "host:port[,host:port...]"),
  requiredPlugins: z.array(z.string().min(1)).optional(),
});

const columnSchema = z.strictObject({
  name: identifier,
  type: z.string().regex(/^[\w\s(),[\]."]+$/, "a PostgreSQL type such as integer, text or numeric(10,2)"),
  nullable: z.boolean().optional(),
});

const tableSchema = z
  .strictObject({
    schema: identifier,
    name: identifier,
    columns: z.array(columnSchema).min(1),
    primaryKey: z.array(identifier).min(1),
  })
  .refine((t) => t.primaryKey.every((key) => t.columns.some((c) => c.name === key)), {
    path: ["primaryKey"],
    message: "must name columns of the table",
  });

const pipelineSchema = z.strictObject({
  topicPrefix: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "letters, digits, '_', '.' or '-'"),
  snapshotMode: z.enum(["initial", "no_data", "when_needed", "always", "initial_only"]).default("initial"),
  replicationFactor: z.number().int().min(1).max(5).default(3),
  rebuild: z.string().min(1).optional(),
});

const componentsSchema = z.strictObject({
  containers: z.boolean().default(false),
  backups: z.boolean().default(false),
});

const dockerSchema = z.strictObject({
  host: z.string().regex(/^(unix|tcp|ssh):\/\/.+/, "a Docker host URL such as unix:///var/run/docker.sock"),
});

const days = z.number().int().min(1).max(36500);
/** The seed runbooks' promise: a backup of each kind at most a day old. */
export const DEFAULT_RPO_HOURS = { database: 24, files: 24, config: 24 } as const;
const awsSchema = z
  .strictObject({
    primaryRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as us-east-1"),
    drRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as us-west-2"),
    lifecycle: z
      .strictObject({
        infrequentAccessAfterDays: days.optional(),
        glacierAfterDays: days.optional(),
        expireAfterDays: days.optional(),
        noncurrentExpireAfterDays: days.optional(),
        abortIncompleteUploadAfterDays: days.optional(),
      })
      .optional(),
    /** Recovery point objectives: the newest backup of each kind must be younger than this many hours. */
    rpoHours: z
      .strictObject({
        database: z.number().positive().default(DEFAULT_RPO_HOURS.database),
        files: z.number().positive().default(DEFAULT_RPO_HOURS.files),
        config: z.number().positive().default(DEFAULT_RPO_HOURS.config),
      })
      .default(DEFAULT_RPO_HOURS),
  })
  .refine((aws) => aws.primaryRegion !== aws.drRegion, {
    path: ["drRegion"],
    message: "must differ from primaryRegion",
  });

/** The DR stack names the primary stack it takes over from (org/project/stack, or stack on a file backend). */
const failoverSchema = z.strictObject({
  primaryStack: z.string().regex(/^[\w.-]+(\/[\w.-]+){0,2}$/, "a stack name such as acme/cdc-pipeline/dev"),
});

/** Every structured key of the project namespace (`cdc-pipeline:<key>`). */
const stackSchema = z
  .strictObject({
    components: componentsSchema.default({ containers: false, backups: false }),
    kafkaConnect: kafkaConnectSchema,
    pipeline: pipelineSchema,
    tables: z.array(tableSchema).min(1),
    source: sourceSchema,
    target: targetSchema,
    docker: dockerSchema.optional(),
    aws: awsSchema.optional(),
    failover: failoverSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.components.containers && !cfg.docker) {
      ctx.addIssue({ code: "custom", path: ["docker"], message: "is required when components.containers is true" });
    }
    if (cfg.components.backups && !cfg.aws) {
      ctx.addIssue({ code: "custom", path: ["aws"], message: "is required when components.backups is true" });
    }
  });

/**
 * Keys that must be set with `pulumi config set --secret`: grafanaPassword only with containers,
 * connectorPassword only with source.connectorUser.
 */
export const SECRET_KEYS = ["sourcePassword", "targetPassword", "grafanaPassword", "connectorPassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
const requiredSecrets = (raw: Record<string, unknown>): SecretKey[] => [
  "sourcePassword",
  "targetPassword",
  ...((raw.components as { containers?: unknown } | undefined)?.containers === true
    ? ["grafanaPassword" as const]
    : []),
  ...((raw.source as { connectorUser?: unknown } | undefined)?.connectorUser !== undefined
    ? ["connectorPassword" as const]
    : []),
];

export type StackSettings = z.infer<typeof stackSchema>;
export type StackConfig = StackSettings & {
  readonly secrets: Record<"sourcePassword" | "targetPassword", pulumi.Output<string>> & {
    /** Present whenever components.containers is on (validated). */
    readonly grafanaPassword?: pulumi.Output<string>;
    /** Present whenever source.connectorUser is set (validated). */
    readonly connectorPassword?: pulumi.Output<string>;
  };
};

/** Example values shown in the fix command of an error, by top-level key. */
const EXAMPLES: Record<string, string> = {
  components: `'{"containers":false,"backups":false}'`,
  kafkaConnect: `'{"url":"http://127.0.0.1:8083","bootstrapServers":"kafka:9092"}'`,
  pipeline: `'{"topicPrefix":"inventory"}'`,
  tables: `'[{"schema":"dbo","name":"customers","columns":[{"name":"id","type":"integer"}],"primaryKey":["id"]}]'`,
  source: `'{"engine":"sqlserver","host":"mssql","port":1433,"database":"inventory","user":"cdc_reader"}'`,
  target: `'{"host":"postgres","port":5432,"database":"warehouse","user":"cdc_writer"}'`,
  docker: `'{"host":"unix:///var/run/docker.sock"}'`,
  aws: `'{"primaryRegion":"us-east-1","drRegion":"us-west-2"}'`,
  failover: `'{"primaryStack":"acme/cdc-pipeline/dev"}'`,
};

export class StackConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration of stack '${stack}':\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

function valueAt(raw: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], raw);
}

/** A config path as `pulumi config set --path` writes it: tables[0].columns[1].type. */
function configPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>, stack: string): string {
  const path = issue.path.map(String);
  const key = `${PROJECT}:${configPath(issue.path)}`;
  const top = path[0] ?? "";
  const missing = issue.code === "invalid_type" && valueAt(raw, path) === undefined;
  const what = missing ? "is missing" : issue.message;
  let fix: string;
  if (issue.code === "unrecognized_keys") {
    fix = `pulumi config rm --stack ${stack} --path ${configPath([...issue.path, issue.keys[0]])}`;
  } else if (path.length <= 1 || typeof raw[top] !== "object") {
    fix = `pulumi config set --stack ${stack} --path ${top} ${EXAMPLES[top] ?? "<value>"}`;
  } else {
    fix = `pulumi config set --stack ${stack} --path '${configPath(issue.path)}' <value>`;
  }
  return `${key} ${what} (fix: ${fix})`;
}

/**
 * Validates the raw structured configuration (as `pulumi config --json` holds it) and the presence of
 * the secret keys. Pure: no Pulumi runtime needed, so it is unit-tested directly.
 */
export function parseStackSettings(
  raw: Record<string, unknown>,
  stack: string,
  presentSecrets: ReadonlySet<string>,
): StackSettings {
  const problems: string[] = [];
  const result = stackSchema.safeParse(raw);
  if (!result.success) {
    problems.push(...result.error.issues.map((issue) => describeIssue(issue, raw, stack)));
  }
  for (const key of requiredSecrets(raw)) {
    if (!presentSecrets.has(key)) {
      problems.push(
        `${PROJECT}:${key} is missing: a secret password (fix: pulumi config set --stack ${stack} --secret ${key})`,
      );
    }
  }
  if (problems.length > 0 || !result.success) {
    throw new StackConfigError(stack, problems);
  }
  return result.data;
}

/** Reads the current stack's configuration through the Pulumi runtime; throws StackConfigError. */
export function loadStackConfig(): StackConfig {
  const config = new pulumi.Config(PROJECT);
  const stack = pulumi.getStack();
  const raw: Record<string, unknown> = {};
  for (const key of [
    "components",
    "kafkaConnect",
    "pipeline",
    "tables",
    "source",
    "target",
    "docker",
    "aws",
    "failover",
  ]) {
    try {
      const value = config.getObject<unknown>(key);
      if (value !== undefined) raw[key] = value;
    } catch {
      // getObject throws on text that is not JSON; the schema then reports the key as invalid.
      raw[key] = config.get(key);
    }
  }
  const secrets: Partial<Record<SecretKey, pulumi.Output<string>>> = {};
  for (const key of SECRET_KEYS) {
    const value = config.getSecret(key);
    if (value !== undefined) secrets[key] = value;
  }
  const settings = parseStackSettings(raw, stack, new Set(Object.keys(secrets)));
  return { ...settings, secrets: secrets as StackConfig["secrets"] };
}

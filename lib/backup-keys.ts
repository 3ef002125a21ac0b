// Where backups live in a bucket: one key template, read by the backup command to name an object and by
// `rpo`, `restore` and `verify` to find them again, so a bucket laid out like the runbooks'
// (`<yyyy>/<mm>/<dd>/<kind>/...`) is read as well as the default layout.
import { z } from "zod";

/** What `backup --kind all` takes and `rpo` checks on every stack. */
export const BACKUP_KINDS = ["database", "files", "config"] as const;
/**
 * Point in time: physical base backups (pg_basebackup) and the WAL archived beside them, for a stack whose
 * backups.schedule names `log`.
 */
export const POINT_IN_TIME_KINDS = ["base", "log"] as const;
export type RpoKind = (typeof BACKUP_KINDS)[number];
/** `target`: the target database, backed up on request only (never restored as the source). */
export type BackupKind = RpoKind | (typeof POINT_IN_TIME_KINDS)[number] | "target";

export const DEFAULT_KEY_TEMPLATE = "<kind>/<yyyy>/<mm>/<dd>/<stack>-<time>.<ext>";

/** What each field stands for; `<time>` is the whole UTC time to the millisecond (20261201T145200123Z). */
const FIELDS = {
  kind: "[a-z]+",
  stack: "[^/]+",
  yyyy: "\\d{4}",
  mm: "\\d{2}",
  dd: "\\d{2}",
  hh: "\\d{2}",
  mi: "\\d{2}",
  ss: "\\d{2}",
  time: "\\d{8}T\\d{9}Z",
  // Per kind: see EXTENSIONS.
  ext: "",
} as const;
type Field = keyof typeof FIELDS;
const FIELD = /<([a-z]+)>/g;

/** A template names its kind and extension, and is precise to the second (else two backups would collide). */
export const keyTemplateSchema = z.string().superRefine((template, ctx) => {
  const fields = [...template.matchAll(FIELD)].map((m) => m[1]);
  const unknown = fields.filter((f) => !(f in FIELDS));
  const problem = (message: string) => ctx.addIssue({ code: "custom", message });
  if (unknown.length > 0)
    problem(`has unknown field(s) <${unknown.join(">, <")}> (allowed: <${Object.keys(FIELDS).join(">, <")}>)`);
  if (!fields.includes("kind")) problem("must contain <kind>");
  if (!template.endsWith("<ext>")) problem("must end with <ext>");
  const exact = fields.includes("time") || ["yyyy", "mm", "dd", "hh", "mi", "ss"].every((f) => fields.includes(f));
  if (!exact) problem("must contain a time field: <time>, or all of <yyyy> <mm> <dd> <hh> <mi> <ss>");
  if (template.startsWith("/")) problem("must not start with '/'");
});

/** The objects' extensions of each kind: a database dump's depends on the engine (pg_dump's custom format, a .bak). */
const EXTENSIONS = {
  database: ["dump", "bak"],
  config: ["json"],
  files: ["tar.gz"],
  base: ["tar"],
  target: ["dump"],
  log: ["trn"],
} as const;

export function backupExtension(kind: Exclude<BackupKind, "log">, engine: "postgres" | "sqlserver"): string {
  return kind === "database" && engine === "sqlserver" ? "bak" : EXTENSIONS[kind][0];
}

/**
 * The log is not named by the template, but ordered under one prefix per stack: PostgreSQL's archived WAL by
 * each segment's own name (`log/<stack>/000000010000000000000003`, the one being filled as `<name>.partial`),
 * SQL Server's log backups by time (sqlServerLogKey).
 */
export const logPrefix = (stack: string): string => `log/${stack}/`;

/** A SQL Server log backup's key: in its stack's log/, named by its time (which orders a log chain). */
export const sqlServerLogKey = (stack: string, at: Date): string => `${logPrefix(stack)}${timeField(at)}.trn`;

/** The keys of a stack's SQL Server log backups (not their manifests). */
export function sqlServerLogKeys(stack: string): { prefix: string; pattern: RegExp } {
  const prefix = logPrefix(stack);
  return { prefix, pattern: new RegExp(`^${escapeRegex(prefix)}${FIELDS.time}\\.trn$`) };
}

const two = (n: number) => String(n).padStart(2, "0");

/** The `<time>` text of a moment: UTC, to the millisecond, sortable. */
export function timeField(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace(".", "");
}

export interface KeyValues {
  readonly kind: BackupKind;
  readonly stack: string;
  readonly at: Date;
  readonly ext: string;
}

export function backupKey(template: string, v: KeyValues): string {
  const values: Record<Field, string> = {
    kind: v.kind,
    stack: v.stack,
    yyyy: String(v.at.getUTCFullYear()),
    mm: two(v.at.getUTCMonth() + 1),
    dd: two(v.at.getUTCDate()),
    hh: two(v.at.getUTCHours()),
    mi: two(v.at.getUTCMinutes()),
    ss: two(v.at.getUTCSeconds()),
    time: timeField(v.at),
    ext: v.ext,
  };
  return template.replace(FIELD, (_m, f: string) => values[f as Field]);
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The keys of one kind: a pattern that matches exactly the objects the template names (not their manifests),
 * and the longest literal prefix to list under.
 */
export function kindKeys(template: string, kind: BackupKind): { prefix: string; pattern: RegExp } {
  const { prefix, pattern } = keyShape(template, kind);
  return { prefix, pattern };
}

/** kindKeys, with the field each of the pattern's groups captures, in order. */
function keyShape(template: string, kind: BackupKind): { prefix: string; pattern: RegExp; fields: Field[] } {
  const withKind = template.replaceAll("<kind>", kind);
  const first = withKind.search(FIELD);
  const prefix = first === -1 ? withKind : withKind.slice(0, first);
  const fields: Field[] = [];
  let source = "";
  let last = 0;
  for (const m of withKind.matchAll(FIELD)) {
    // The kind's own extensions only: a manifest (`<key>.manifest.json`) is not a backup of its own.
    const field = m[1] === "ext" ? EXTENSIONS[kind].map(escapeRegex).join("|") : FIELDS[m[1] as Field];
    source += escapeRegex(withKind.slice(last, m.index)) + `(${field})`;
    fields.push(m[1] as Field);
    last = m.index + m[0].length;
  }
  source += escapeRegex(withKind.slice(last));
  return { prefix, pattern: new RegExp(`^${source}$`), fields };
}

/**
 * The time a backup's key names (when the backup was taken): to the millisecond by <time>, else to the second;
 * undefined for a key that is not one of the kind's.
 */
export function keyTime(template: string, kind: BackupKind, key: string): Date | undefined {
  const { pattern, fields } = keyShape(template, kind);
  const match = pattern.exec(key);
  if (!match) return undefined;
  const value = (field: Field) => match[fields.indexOf(field) + 1];
  if (fields.includes("time")) {
    const t = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(value("time"))!;
    return new Date(Date.UTC(+t[1], +t[2] - 1, +t[3], +t[4], +t[5], +t[6], +t[7]));
  }
  const n = (field: Field) => Number(value(field));
  return new Date(Date.UTC(n("yyyy"), n("mm") - 1, n("dd"), n("hh"), n("mi"), n("ss")));
}

/** The key of the manifest that describes a backup object. */
export const manifestKey = (objectKey: string): string => `${objectKey}.manifest.json`;

/** The key a verification of a backup object is recorded under. */
export const verificationKey = (objectKey: string, at: Date): string => `verify/${objectKey}.${timeField(at)}.json`;

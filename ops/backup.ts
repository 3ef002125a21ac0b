// `cdc-pipeline backup`: the stack's source database, its configuration and its files, each written to the
// backup bucket as one object with a manifest beside it, and reported to a Pushgateway when there is one.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { Readable } from "node:stream";
import axios from "axios";
import { backupExtension, backupKey, type BackupKind } from "../lib/backup-keys";
import { putManifest, uploadStream, type BackupBucket, type BackupManifest } from "../lib/backup-objects";
import { connectHttp } from "../lib/connect-rest";
import { getConfig, getOffsets } from "../lib/connector-api";
import { readCdcFacts } from "../lib/logical-replication";
import { pipelineNames } from "../lib/pipeline-names";
import { dumpDatabase } from "../lib/postgres-backup";
import { redact } from "../lib/redact";
import { readSqlServerCdc } from "../lib/sqlserver-cdc-sql";
import { withClient } from "../lib/postgres";
import { withSqlServer } from "../lib/sqlserver";
import { postgresSide, stackTables, tableDigest } from "./reconcile";
import { sourceConnection, type StackSite } from "./stacks";

/** Where a stack's backups go: the bucket, and the key template its objects are named by. */
export interface BackupDestination extends BackupBucket {
  readonly keyTemplate: string;
}

export interface BackupOptions {
  /** Bytes per uploaded part. Default: 8 MiB. */
  readonly partSize?: number;
  /** The time the backup is named after. Default: now. */
  readonly now?: Date;
}

const seconds = (since: number) => Math.round((performance.now() - since) / 10) / 100;

const keyOf = (site: StackSite, dest: BackupDestination, kind: BackupKind, at: Date) =>
  backupKey(dest.keyTemplate, {
    kind,
    stack: site.stack.name,
    at,
    ext: backupExtension(kind, site.settings.source.engine),
  });

/** Writes the object's manifest last: an object without one is a backup that did not finish. */
async function finish(
  dest: BackupDestination,
  fields: Omit<BackupManifest, "format" | "encryption">,
): Promise<BackupManifest> {
  const manifest: BackupManifest = {
    format: 1,
    ...fields,
    ...(dest.kmsKeyId ? { encryption: { kmsKeyId: dest.kmsKeyId } } : {}),
  };
  await putManifest(dest, manifest);
  return manifest;
}

/**
 * The source database, dumped by pg_dump in a snapshot it shares with the session that counts and hashes
 * every captured table, and streamed into a multipart upload.
 */
export async function backupDatabase(
  site: StackSite,
  dest: BackupDestination,
  options: BackupOptions = {},
): Promise<BackupManifest> {
  const { source } = site.settings;
  if (source.engine !== "postgres") {
    throw new Error(
      "backup --kind database: a SQL Server source is backed up with BACKUP DATABASE by its own jobs; " +
        "this command does not take it yet",
    );
  }
  const started = performance.now();
  const takenAt = options.now ?? new Date();
  const key = keyOf(site, dest, "database", takenAt);
  let object = { sha256: "", size: 0 };
  const { at, facts } = await dumpDatabase(
    sourceConnection(site),
    async (client) => {
      const side = await postgresSide(client);
      const tables: Record<string, { rows: number; hash: string }> = {};
      for (const t of stackTables(site)) tables[`${t.source.schema}.${t.source.name}`] = await tableDigest(side, t);
      return tables;
    },
    async (dump) => {
      object = await uploadStream(dest, key, dump, { partSize: options.partSize });
    },
  );
  return finish(dest, {
    kind: "database",
    stack: site.stack.name,
    takenAt: takenAt.toISOString(),
    key,
    ...object,
    source: { engine: "postgres", database: source.database, position: at.position, tables: facts },
    seconds: seconds(started),
  });
}

/** Connector config keys whose values are secrets, whatever the connector. */
const SECRET_CONFIG_KEY = /password|secret|token|credential|jaas/i;

/** What resumes the pipeline: the stack's settings (no secret is among them), connectors and offsets, CDC facts. */
export async function configSnapshot(site: StackSite): Promise<Record<string, unknown>> {
  const { settings } = site;
  const secrets = [site.sourcePassword, site.targetPassword];
  const names = pipelineNames(settings.pipeline.topicPrefix, settings.source);
  const http = connectHttp({ url: settings.kafkaConnect.url });
  const connectors: Record<string, unknown> = {};
  for (const name of [names.sourceConnector, names.sinkConnector]) {
    const config = await getConfig(http, name, secrets);
    connectors[name] = config
      ? {
          config: Object.fromEntries(
            Object.entries(config).map(([k, v]) => [k, SECRET_CONFIG_KEY.test(k) ? "[removed]" : redact(v, secrets)]),
          ),
          offsets: (await getOffsets(http, name, secrets)).offsets,
        }
      : null;
  }
  const cdc =
    settings.source.engine === "postgres"
      ? await withClient(sourceConnection(site), async (client) => ({
          ...(await readCdcFacts(client, {
            publication: names.publication,
            slot: names.slot,
            tables: settings.tables,
            replicationUser: settings.source.connectorUser ?? settings.source.user,
          })),
          slotPosition:
            (
              await client.query<{ lsn: string | null }>(
                "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
                [names.slot],
              )
            ).rows[0]?.lsn ?? null,
        }))
      : await withSqlServer(sourceConnection(site), (client) => readSqlServerCdc(client, ""));
  return { stack: site.stack.name, settings, connectors, cdc };
}

export async function backupConfig(
  site: StackSite,
  dest: BackupDestination,
  options: BackupOptions = {},
): Promise<BackupManifest> {
  const started = performance.now();
  const takenAt = options.now ?? new Date();
  const key = keyOf(site, dest, "config", takenAt);
  const body = Buffer.from(JSON.stringify(await configSnapshot(site), null, 2));
  const object = await uploadStream(dest, key, Readable.from([body]), { partSize: options.partSize });
  return finish(dest, {
    kind: "config",
    stack: site.stack.name,
    takenAt: takenAt.toISOString(),
    key,
    ...object,
    seconds: seconds(started),
  });
}

/** The stack's `backups.files`, as one gzipped tarball streamed from tar. */
export async function backupFiles(
  site: StackSite,
  dest: BackupDestination,
  options: BackupOptions = {},
): Promise<BackupManifest> {
  const { files } = site.settings.backups;
  if (files.length === 0) throw new Error("backup --kind files: the stack's backups.files lists no path");
  const gone = files.map((f, i) => [f, i] as const).filter(([f]) => !existsSync(f));
  if (gone.length > 0) {
    throw new Error(`backups.files: ${gone.map(([f, i]) => `[${i}] ${f}`).join(", ")} does not exist`);
  }
  const started = performance.now();
  const takenAt = options.now ?? new Date();
  const key = keyOf(site, dest, "files", takenAt);
  const tar = spawn("tar", ["-czPf", "-", "--", ...files], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  tar.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve, reject) =>
    tar.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`tar failed (exit ${code}): ${stderr.trim()}`)),
    ),
  );
  const object = await uploadStream(dest, key, tar.stdout, { partSize: options.partSize });
  await exited;
  return finish(dest, {
    kind: "files",
    stack: site.stack.name,
    takenAt: takenAt.toISOString(),
    key,
    ...object,
    seconds: seconds(started),
  });
}

export const BACKUP_BY_KIND = { database: backupDatabase, config: backupConfig, files: backupFiles } as const;

/**
 * Pushes a backup's last success, size and duration to a Pushgateway, grouped by kind and stack, so that each
 * kind's job replaces only its own series.
 */
export async function pushBackupMetrics(pushgateway: string, m: BackupManifest): Promise<void> {
  const labels = `kind="${m.kind}",stack="${m.stack}"`;
  const body = [
    "# TYPE cdc_backup_last_success_timestamp_seconds gauge",
    `cdc_backup_last_success_timestamp_seconds{${labels}} ${Date.parse(m.takenAt) / 1000 + m.seconds}`,
    "# TYPE cdc_backup_size_bytes gauge",
    `cdc_backup_size_bytes{${labels}} ${m.size}`,
    "# TYPE cdc_backup_duration_seconds gauge",
    `cdc_backup_duration_seconds{${labels}} ${m.seconds}`,
    "",
  ].join("\n");
  const group = `/metrics/job/cdc_backup/kind/${encodeURIComponent(m.kind)}/stack/${encodeURIComponent(m.stack)}`;
  await axios.put(pushgateway.replace(/\/+$/, "") + group, body, {
    headers: { "Content-Type": "text/plain; version=0.0.4" },
    timeout: 10_000,
  });
}

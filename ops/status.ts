// The pipeline on one screen: its connectors and their tasks, CDC on the source, rows in the target and
// the newest backups. Each part is read on its own: one that cannot be read is reported as such and the
// others are still shown.
import Table from "cli-table3";
import type { Client } from "pg";
import { connectHttp } from "../lib/connect-rest";
import { getStatus, type ConnectorStatus } from "../lib/connector-api";
import { readCdcFacts, type PgTable } from "../lib/logical-replication";
import { pipelineNames } from "../lib/pipeline-names";
import { withClient } from "../lib/postgres";
import { redact } from "../lib/redact";
import { withSqlServer } from "../lib/sqlserver";
import { readSqlServerCdc, type SqlServerDatabaseFacts } from "../lib/sqlserver-cdc-sql";
import { deadLetterDepth } from "../lib/dead-letter";
import { stackDeadLetterTopic } from "./dlq";
import { targetRowCounts, type RowCounts } from "./row-counts";
import { checkRpo, type RpoCheckOptions, type RpoReport } from "./rpo";
import { sourceConnection, type StackSite } from "./stacks";

/** A part of the status: what was read, or why it could not be. */
export type Part<T> =
  { readonly value: T; readonly error?: undefined } | { readonly value?: undefined; readonly error: string };

export interface ConnectorLine {
  readonly name: string;
  /** undefined: the worker has no such connector. */
  readonly status?: ConnectorStatus;
}

export interface CdcState {
  readonly engine: "postgres" | "sqlserver";
  /** What is in place, for people: publication and slot, or CDC on the database and its capture instances. */
  readonly facts: string[];
  /** What keeps changes from being captured; empty when capture works. */
  readonly problems: string[];
}

export interface StatusReport {
  readonly stack: string;
  /** ok; degraded: something is not running or not in place; unreadable: a part could not be read. */
  readonly status: "ok" | "degraded" | "unreadable";
  readonly connectors: Part<ConnectorLine[]>;
  readonly cdc: Part<CdcState>;
  readonly targetRows: Part<RowCounts>;
  /** The RPO check of the backup bucket; value undefined when the stack has none. */
  readonly backups: Part<RpoReport | undefined>;
  /**
   * The sink's dead-letter topic and how many records it holds; value undefined when the stack does not say
   * where Kafka is (kafkaConnect.bootstrapServers). Shown, not judged: a replayed letter stays in the topic.
   */
  readonly deadLetters: Part<{ readonly topic: string; readonly depth: number } | undefined>;
}

export const STATUS_EXIT = { ok: 0, degraded: 1, unreadable: 2 } as const;

/** Runs `read`; its error becomes the part's error, with the stack's passwords taken out. */
async function part<T>(read: () => Promise<T>, secrets: readonly string[]): Promise<Part<T>> {
  try {
    return { value: await read() };
  } catch (err) {
    return { error: redact((err as Error).message, secrets) };
  }
}

/** Problems of a PostgreSQL source: the facts the PostgresCdc resource manages, and whether the slot is read. */
export async function postgresCdcState(
  client: Pick<Client, "query">,
  tables: readonly PgTable[],
  names: { publication: string; slot: string },
): Promise<CdcState> {
  const facts = await readCdcFacts(client, { ...names, tables: [...tables], replicationUser: "" });
  // Whether a connector reads the slot changes as it runs: read here, not among the resource's facts (a
  // refresh would report every pause as drift).
  const slot = await client.query<{ active: boolean }>("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [
    names.slot,
  ]);
  const active = slot.rows[0]?.active === true;
  const unpublished = tables.map((t) => `${t.schema}.${t.name}`).filter((t) => !facts.publishedTables.includes(t));
  const problems = [
    ...(facts.walLevel === "logical" ? [] : [`wal_level is ${facts.walLevel}, not logical`]),
    ...(facts.publicationExists ? [] : [`publication ${names.publication} is missing`]),
    ...(facts.publicationExists && unpublished.length > 0 ? [`not published: ${unpublished.join(", ")}`] : []),
    ...(!facts.slotExists
      ? [`replication slot ${names.slot} is missing`]
      : active
        ? []
        : [`replication slot ${names.slot} is not being read: the source keeps its WAL`]),
  ];
  return {
    engine: "postgres",
    facts: [
      `publication ${names.publication}: ${facts.publishedTables.join(", ") || "no tables"}`,
      `slot ${names.slot}: ${!facts.slotExists ? "missing" : active ? "active" : "inactive"}`,
    ],
    problems,
  };
}

/** Problems of a SQL Server source, from what SqlServerCdc reads. */
export function sqlServerCdcState(facts: SqlServerDatabaseFacts, tables: readonly string[]): CdcState {
  const captured = (t: string) => facts.captureInstances.filter((ci) => `${ci.schema}.${ci.table}` === t);
  const uncaptured = tables.filter((t) => captured(t).length === 0);
  return {
    engine: "sqlserver",
    facts: [
      `CDC on the database: ${facts.cdcEnabled ? "enabled" : "disabled"}`,
      `SQL Server Agent: ${facts.agentRunning ? "running" : "not running"}`,
      ...tables.map(
        (t) =>
          `${t}: ${
            captured(t)
              .map((ci) => ci.captureInstance)
              .join(", ") || "not captured"
          }`,
      ),
    ],
    problems: [
      ...(facts.cdcEnabled ? [] : ["CDC is disabled on the database"]),
      ...(facts.agentRunning ? [] : ["SQL Server Agent is not running: nothing is captured"]),
      ...(facts.cdcEnabled && uncaptured.length > 0 ? [`not captured: ${uncaptured.join(", ")}`] : []),
    ],
  };
}

/** Running, tasks included: a connector without tasks (none assigned, or none configured) moves nothing. */
const running = (c: ConnectorLine) =>
  c.status?.state === "RUNNING" && c.status.tasks.length > 0 && c.status.tasks.every((t) => t.state === "RUNNING");

export function statusOf(report: Omit<StatusReport, "status">): StatusReport["status"] {
  const parts = [report.connectors, report.cdc, report.targetRows, report.backups, report.deadLetters];
  if (parts.some((p) => p.error !== undefined)) return "unreadable";
  const healthy =
    report.connectors.value!.every(running) &&
    report.cdc.value!.problems.length === 0 &&
    (report.backups.value?.status ?? "ok") === "ok";
  return healthy ? "ok" : "degraded";
}

export interface StatusOptions {
  /** Finds the backup bucket, its client and RPO targets (undefined: the stack has none). Default: none. */
  readonly backups?: () => Promise<RpoCheckOptions | undefined>;
}

export async function collectStatus(site: StackSite, options: StatusOptions = {}): Promise<StatusReport> {
  const { settings } = site;
  const secrets = [site.sourcePassword, site.targetPassword];
  const names = pipelineNames(settings.pipeline, settings.source);
  const tables = settings.tables.map((t) => `${t.schema}.${t.name}`);
  const http = connectHttp({ url: settings.kafkaConnect.url }, 10_000);

  const [connectors, cdc, targetRows, backups, deadLetters] = await Promise.all([
    part(
      () =>
        Promise.all(
          [names.sourceConnector, names.sinkConnector].map(async (name) => ({
            name,
            status: await getStatus(http, name, secrets),
          })),
        ),
      secrets,
    ),
    part(
      () =>
        settings.source.engine === "postgres"
          ? withClient(sourceConnection(site), (client) => postgresCdcState(client, settings.tables, names))
          : withSqlServer(sourceConnection(site), async (client) =>
              sqlServerCdcState(await readSqlServerCdc(client, ""), tables),
            ),
      secrets,
    ),
    part(() => targetRowCounts(site), secrets),
    part(async () => {
      const check = await options.backups?.();
      return check ? checkRpo(check) : undefined;
    }, secrets),
    part(async () => {
      if (!settings.kafkaConnect.bootstrapServers) return undefined;
      const topic = stackDeadLetterTopic(site);
      return { topic: topic.topic, depth: await deadLetterDepth(topic) };
    }, secrets),
  ]);
  const report = { stack: site.stack.name, connectors, cdc, targetRows, backups, deadLetters };
  return { ...report, status: statusOf(report) };
}

const unreadable = (error: string) => `cannot be read: ${error}`;

export function formatStatus(report: StatusReport): string {
  const lines = [`stack ${report.stack}: ${report.status}`, ""];

  if (report.connectors.error !== undefined) lines.push(`connectors ${unreadable(report.connectors.error)}`);
  else {
    const table = new Table({ head: ["connector", "state", "tasks", "worker"], style: { head: [], border: [] } });
    for (const c of report.connectors.value) {
      table.push([
        c.name,
        c.status?.state ?? "MISSING",
        // A task on another worker than its connector's (Connect spreads them) says where it runs.
        c.status?.tasks
          .map((t) => `${t.id} ${t.state}${t.workerId !== c.status?.workerId ? ` on ${t.workerId}` : ""}`)
          .join(", ") || "-",
        c.status?.workerId ?? "-",
      ]);
    }
    lines.push(table.toString());
    for (const c of report.connectors.value)
      for (const trace of c.status?.traces ?? []) lines.push(`${c.name} ${trace}`);
  }

  if (report.cdc.error !== undefined) lines.push(`source CDC ${unreadable(report.cdc.error)}`);
  else {
    const { engine, facts, problems } = report.cdc.value;
    lines.push(`source CDC (${engine}): ${problems.length === 0 ? "ok" : problems.join("; ")}`);
    lines.push(...facts.map((f) => `  ${f}`));
  }

  if (report.targetRows.error !== undefined) lines.push(`target rows ${unreadable(report.targetRows.error)}`);
  else {
    const counts = Object.entries(report.targetRows.value).map(([t, n]) => `${t} ${n}`);
    lines.push(`target rows: ${counts.join(", ")}`);
  }

  if (report.backups.error !== undefined) lines.push(`backups ${unreadable(report.backups.error)}`);
  else if (!report.backups.value)
    lines.push("backups: no backup bucket (neither components.backups nor backups.bucket; --bucket names one)");
  else {
    const rpo = report.backups.value;
    const ages = rpo.backups.map(
      (b) =>
        `${b.kind} ${b.ageHours === undefined ? "none" : `${b.ageHours.toFixed(1)} h`} (RPO ${b.targetHours} h)` +
        (b.problems.length > 0 ? ` ${b.problems.join("; ")}` : ""),
    );
    const settings = rpo.bucketChecks.filter((c) => !c.ok).map((c) => `${c.setting} MISSING`);
    lines.push(`backups s3://${rpo.bucket}: ${[...ages, ...settings].join(", ")}`);
  }

  if (report.deadLetters.error !== undefined) lines.push(`dead letters ${unreadable(report.deadLetters.error)}`);
  else if (!report.deadLetters.value) lines.push("dead letters: not read (kafkaConnect.bootstrapServers is not set)");
  else {
    const { topic, depth } = report.deadLetters.value;
    lines.push(`dead letters: ${depth} in ${topic}${depth > 0 ? " (cdc-pipeline dlq list shows them)" : ""}`);
  }
  return lines.join("\n");
}

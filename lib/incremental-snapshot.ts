// Debezium's incremental snapshots, as `resync`, `repair` and the backfills ask for them: a signal row in the
// source's signalling table (the source channel) names the tables, and optionally a condition on their
// rows; the connector reads them in chunks while streaming goes on, and reports through its notifications
// (lib/debezium-notifications) when each table's scan, and the whole snapshot, has finished.
import { randomUUID } from "node:crypto";
import type { Client } from "pg";
import { watchNotifications, type DebeziumNotification, type NotificationWatch } from "./debezium-notifications";
import { qualified, withClient } from "./postgres";
import type { SourceDatabase } from "./source-database";
import { bracketed, withSqlServer, type SqlClient } from "./sqlserver";

/** A table as the signal names it. */
export interface SourceTable {
  readonly schema: string;
  readonly name: string;
}

/** The source database a signal is written to: its engine and a client on it. */
export type SignalSource =
  | { readonly engine: "postgres"; readonly client: Pick<Client, "query"> }
  | { readonly engine: "sqlserver"; readonly client: SqlClient; readonly database: string };

/**
 * The name Debezium knows a captured table by (its data collection): schema.table on PostgreSQL,
 * database.schema.table on SQL Server. It is also what its notifications name a scanned table by.
 */
export function dataCollection(source: Pick<SignalSource, "engine"> & { database?: string }, t: SourceTable): string {
  return source.engine === "sqlserver" ? `${source.database}.${t.schema}.${t.name}` : `${t.schema}.${t.name}`;
}

/**
 * A literal Java regular expression (Pattern.quote): the signal's names are patterns, matched in full
 * against the connector's tables, and a table name may hold '.', '$' or brackets.
 */
export const javaQuoted = (text: string): string => `\\Q${text.replace(/\\E/g, "\\E\\\\E\\Q")}\\E`;

/** What to snapshot: data collections, and per data collection an optional condition on the rows. */
export interface SnapshotRequest {
  /** The tables, by their data collection names. */
  readonly dataCollections: readonly string[];
  /** A SQL condition on the rows of a table, by its data collection name: only those rows are read. */
  readonly conditions?: Readonly<Record<string, string>>;
}

/** A signal row: the three columns Debezium reads, in order. */
export interface Signal {
  readonly id: string;
  readonly type: string;
  readonly data: string;
}

/** The execute-snapshot signal of a request, with a new id (which the notifications then carry). */
export function snapshotSignal(request: SnapshotRequest, id = `cdc-pipeline-${randomUUID()}`): Signal {
  const conditions = Object.entries(request.conditions ?? {}).map(([collection, filter]) => ({
    "data-collection": javaQuoted(collection),
    filter,
  }));
  return {
    id,
    type: "execute-snapshot",
    data: JSON.stringify({
      type: "incremental",
      "data-collections": request.dataCollections.map(javaQuoted),
      ...(conditions.length > 0 ? { "additional-conditions": conditions } : {}),
    }),
  };
}

/** Inserts the signal into the signalling table, where the connector reads it from the change stream. */
export async function sendSignal(source: SignalSource, table: SourceTable, signal: Signal): Promise<void> {
  if (source.engine === "postgres") {
    await source.client.query(
      `INSERT INTO ${qualified(table.schema, table.name)} (id, type, data) VALUES ($1, $2, $3)`,
      [signal.id, signal.type, signal.data],
    );
  } else {
    await source.client.query(
      `INSERT INTO ${bracketed(table.schema)}.${bracketed(table.name)} (id, type, data) VALUES (@id, @type, @data)`,
      { id: signal.id, type: signal.type, data: signal.data },
    );
  }
}

/** How one table's scan ended (TABLE_SCAN_COMPLETED). */
export interface TableScan {
  /** The table's data collection name. */
  readonly dataCollection: string;
  /** SUCCEEDED or EMPTY when it was read; SQL_EXCEPTION (a condition the database refused), SKIPPED... */
  readonly status: string;
  /** Rows read. */
  readonly rows: number;
}

/** The statuses of a scan that read the table. */
export const SCANNED = ["SUCCEEDED", "EMPTY"] as const;

const INCREMENTAL = "Incremental Snapshot";

/**
 * Waits for the end of the snapshot a signal asked for, and returns how each requested table's scan ended.
 * The notifications carry the signal's id from the moment the connector takes the signal: a COMPLETED after
 * that says the snapshot is over (Debezium gives a later signal's id to the rest of a running snapshot, so
 * COMPLETED may carry another id then). Fails on ABORTED, or at the deadline.
 */
export async function awaitSnapshot(
  watch: NotificationWatch,
  signalId: string,
  dataCollections: readonly string[],
  timeoutMs: number,
): Promise<TableScan[]> {
  const deadline = Date.now() + timeoutMs;
  const scans = new Map<string, TableScan>();
  let taken = false;
  for (;;) {
    const n: DebeziumNotification | undefined = await watch.next(deadline);
    if (!n) {
      throw new Error(
        `no notification that the incremental snapshot of ${dataCollections.join(", ")} finished within ` +
          `${Math.round(timeoutMs / 1000)} s (signal ${signalId}${taken ? ", taken by the connector" : ", not yet taken by the connector"})`,
      );
    }
    if (n.aggregateType !== INCREMENTAL) continue;
    taken ||= n.id === signalId;
    if (!taken) continue;
    if (n.type === "TABLE_SCAN_COMPLETED") {
      const collection = n.additionalData.scanned_collection;
      if (dataCollections.includes(collection)) {
        scans.set(collection, {
          dataCollection: collection,
          status: n.additionalData.status ?? "UNKNOWN",
          rows: Number(n.additionalData.total_rows_scanned ?? 0),
        });
      }
    } else if (n.type === "ABORTED") {
      throw new Error(`the incremental snapshot of ${dataCollections.join(", ")} was stopped (signal ${signalId})`);
    } else if (n.type === "COMPLETED") {
      return dataCollections.map((c) => scans.get(c) ?? { dataCollection: c, status: "NOT_SCANNED", rows: 0 });
    }
  }
}

/** Where the connector's notifications go: the Kafka cluster as this program reaches it, and the topic. */
export interface NotificationTopic {
  readonly bootstrapServers: string;
  readonly topic: string;
}

/** Where signals go: the source database and its signalling table (PostgresCdc or SqlServerCdc makes it). */
export interface SignalChannel {
  readonly source: SourceDatabase;
  readonly table: SourceTable;
}

/** Writes one signal through the channel, on a connection of its own. */
function sendOnChannel(channel: SignalChannel, signal: Signal): Promise<void> {
  const { source, table } = channel;
  return source.engine === "postgres"
    ? withClient(source, (client) => sendSignal({ engine: "postgres", client }, table, signal))
    : withSqlServer(source, (client) =>
        sendSignal({ engine: "sqlserver", client, database: source.database }, table, signal),
      );
}

/** A snapshot that ran: its signal's id and each table's scan. */
export interface SnapshotRun {
  readonly signal: string;
  readonly scans: TableScan[];
}

/**
 * Asks for an incremental snapshot (a signal written to the channel's signalling table) and waits for the
 * connector's notification that it is over; fails when a table was not read (a condition the database
 * refused, a table it does not know), naming it and the status Debezium gave.
 */
export async function runIncrementalSnapshot(
  channel: SignalChannel,
  notifications: NotificationTopic,
  request: SnapshotRequest,
  timeoutMs: number,
): Promise<SnapshotRun> {
  // Opened before the signal is sent: the watch sees only what comes after.
  const watch = await watchNotifications(notifications.bootstrapServers, notifications.topic);
  try {
    const signal = snapshotSignal(request);
    await sendOnChannel(channel, signal);
    const scans = await awaitSnapshot(watch, signal.id, request.dataCollections, timeoutMs);
    const unread = scans.filter((scan) => !(SCANNED as readonly string[]).includes(scan.status));
    if (unread.length > 0) {
      throw new Error(
        `the connector did not read ${unread.map((s) => `${s.dataCollection} (${s.status})`).join(", ")}: ` +
          `see its log for why (signal ${signal.id})`,
      );
    }
    return { signal: signal.id, scans };
  } finally {
    await watch.close();
  }
}

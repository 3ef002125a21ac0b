// A Debezium PostgreSQL source and a Debezium JDBC sink between the harness's two clusters, with a table
// of their own, for the connector tests.
import { Client } from "pg";
import type { ConnectConnection } from "../lib/connect-rest";
import type { KafkaConnectorInputs } from "../providers/kafka-connector";
import { harness } from "./harness";

export const cluster: ConnectConnection = { url: harness.connectUrl };

export async function query<T extends object = Record<string, unknown>>(
  side: "source" | "target",
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ ...harness[side], password: harness.pgPassword });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Drops the replication slots whose names start with `prefix` once no connector holds them (a deleted
 * connector's task lets go of its slot a moment later). A leftover slot pins WAL and uses up
 * max_replication_slots.
 */
export async function dropReplicationSlots(prefix: string): Promise<void> {
  const slots = () =>
    query<{ slot_name: string; active: boolean }>(
      "source",
      "SELECT slot_name, active FROM pg_replication_slots WHERE starts_with(slot_name, $1)",
      [prefix],
    );
  const idle = await eventually(slots, (rows) => rows.every((r) => !r.active), 30_000);
  for (const slot of idle) await query("source", "SELECT pg_drop_replication_slot($1)", [slot.slot_name]);
}

/** The settings both test connectors share: running, a short readiness timeout, the defaults otherwise. */
const SETTINGS = {
  state: "running",
  readyTimeoutSeconds: 60,
  restartFailedTasks: true,
  offsetsPolicy: "keep",
  ignoreKeys: [],
  validate: true,
} as const satisfies Partial<KafkaConnectorInputs>;

/** One pipeline: a source table customers_<id>, its topic, and the sink table it arrives in. */
export class TestPipeline {
  readonly table: string;
  readonly prefix: string;
  constructor(readonly id: string) {
    this.table = `customers_${id}`;
    this.prefix = `it_${id}`;
  }

  get topic(): string {
    return `${this.prefix}.public.${this.table}`;
  }

  async createSourceTable(): Promise<void> {
    await query("source", `CREATE TABLE IF NOT EXISTS ${this.table} (id int PRIMARY KEY, name text NOT NULL)`);
  }

  /** Drops the tables, the replication slot and the publication the source connector made. */
  async dropAll(): Promise<void> {
    await query("source", `DROP TABLE IF EXISTS ${this.table}`);
    await query("target", `DROP TABLE IF EXISTS ${this.table}`);
    await dropReplicationSlots(this.prefix);
    await query("source", `DROP PUBLICATION IF EXISTS ${this.prefix}`);
  }

  source(overrides: Partial<KafkaConnectorInputs> = {}): KafkaConnectorInputs {
    return {
      cluster,
      name: `${this.prefix}-source`,
      config: {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": harness.source.host,
        "database.port": String(harness.source.port),
        "database.user": harness.source.user,
        "database.dbname": harness.source.database,
        "topic.prefix": this.prefix,
        "plugin.name": "pgoutput",
        "slot.name": this.prefix,
        "publication.name": this.prefix,
        "publication.autocreate.mode": "filtered",
        "table.include.list": `public.${this.table}`,
        "tasks.max": "1",
      },
      sensitiveConfig: { "database.password": harness.pgPassword },
      ...SETTINGS,
      ...overrides,
    };
  }

  sink(overrides: Partial<KafkaConnectorInputs> = {}): KafkaConnectorInputs {
    return {
      cluster,
      name: `${this.prefix}-sink`,
      config: {
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "connection.url": `jdbc:postgresql://${harness.target.host}:${harness.target.port}/${harness.target.database}`,
        "connection.username": harness.target.user,
        topics: this.topic,
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        "delete.enabled": "true",
        "schema.evolution": "basic",
        "collection.name.format": this.table,
        "tasks.max": "1",
      },
      sensitiveConfig: { "connection.password": harness.pgPassword },
      ...SETTINGS,
      ...overrides,
    };
  }
}

/** Polls until check() returns true, or fails after the timeout with the last value seen. */
export async function eventually<T>(probe: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    last = await probe();
  }
  return last;
}

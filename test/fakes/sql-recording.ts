// A recorded fake of the SQL Server driver: it answers each query with the rows a recording holds for
// it, in order, and fails on any statement or parameter that differs from the recording. Recordings are
// lists of exchanges; RecordingClient writes them from a real server (MSSQL_URL, MSSQL_RECORD=1).
import { writeFileSync } from "node:fs";
import type { SqlClient, SqlParam } from "../../lib/sqlserver";

export interface Exchange {
  /** The statement, compared with whitespace collapsed. */
  sql: string;
  params?: Record<string, SqlParam>;
  rows?: Record<string, unknown>[];
}

const squash = (sql: string): string => sql.replace(/\s+/g, " ").trim();

export class ReplayClient implements SqlClient {
  /** Every statement sent, with its parameters, for assertions. */
  readonly sent: { sql: string; params: Record<string, SqlParam> }[] = [];
  private readonly pending: Exchange[];

  /** `secrets` are the values a recording holds as "[secret]" (RecordingClient.save replaced them). */
  constructor(
    recording: Exchange[],
    private readonly secrets: string[] = [],
  ) {
    this.pending = [...recording];
  }

  query<T = Record<string, unknown>>(sql: string, sentParams: Record<string, SqlParam> = {}): Promise<T[]> {
    this.sent.push({ sql: squash(sql), params: sentParams });
    const params = Object.fromEntries(
      Object.entries(sentParams).map(([k, v]) => [
        k,
        typeof v === "string" && this.secrets.includes(v) ? "[secret]" : v,
      ]),
    );
    const next = this.pending.shift();
    if (!next) return Promise.reject(new Error(`statement after the end of the recording: ${squash(sql)}`));
    if (squash(next.sql) !== squash(sql) || JSON.stringify(next.params ?? {}) !== JSON.stringify(params)) {
      return Promise.reject(
        new Error(
          `statement differs from the recording:\n  recorded: ${squash(next.sql)} ${JSON.stringify(next.params ?? {})}\n` +
            `  sent:     ${squash(sql)} ${JSON.stringify(params)}`,
        ),
      );
    }
    return Promise.resolve((next.rows ?? []) as T[]);
  }

  /** Exchanges of the recording that were never asked for. */
  get unused(): Exchange[] {
    return this.pending;
  }
}

/** Wraps a real client and records every exchange, to write a recording. */
export class RecordingClient implements SqlClient {
  readonly exchanges: Exchange[] = [];
  constructor(private readonly real: SqlClient) {}

  async query<T = Record<string, unknown>>(sql: string, params: Record<string, SqlParam> = {}): Promise<T[]> {
    const rows = await this.real.query<T>(sql, params);
    this.exchanges.push({ sql: squash(sql), params, rows: rows as Record<string, unknown>[] });
    return rows;
  }

  save(file: string, secrets: string[]): void {
    let text = JSON.stringify(this.exchanges, null, 2);
    for (const secret of secrets) text = text.split(JSON.stringify(secret).slice(1, -1)).join("[secret]");
    writeFileSync(file, `${text}\n`);
  }
}

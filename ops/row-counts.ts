// Row counts of the captured tables on either side of a stack's pipeline, counted in the databases.
import { qualified, withClient } from "../lib/postgres";
import { bracketed, withSqlServer } from "../lib/sqlserver";
import { sourceConnection, targetConnection, type StackSite } from "./stacks";

/** Rows per table, keyed by the source's `schema.name`. */
export type RowCounts = Record<string, number>;

export async function sourceRowCounts(site: StackSite): Promise<RowCounts> {
  const { tables, source } = site.settings;
  const counts: RowCounts = {};
  if (source.engine === "postgres") {
    await withClient(sourceConnection(site), async (client) => {
      for (const t of tables) {
        const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(t.schema, t.name)}`);
        counts[`${t.schema}.${t.name}`] = Number(rows[0].n);
      }
    });
  } else {
    await withSqlServer(sourceConnection(site), async (client) => {
      for (const t of tables) {
        const rows = await client.query<{ n: number }>(
          `SELECT COUNT_BIG(*) AS n FROM ${bracketed(t.schema)}.${bracketed(t.name)}`,
        );
        counts[`${t.schema}.${t.name}`] = Number(rows[0].n);
      }
    });
  }
  return counts;
}

export async function targetRowCounts(site: StackSite): Promise<RowCounts> {
  const { tables, target } = site.settings;
  const counts: RowCounts = {};
  await withClient(targetConnection(site), async (client) => {
    for (const t of tables) {
      // A table the pipeline has not created yet has no rows.
      const name = qualified(target.schema, t.name);
      const exists = await client.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [name]);
      const rows = exists.rows[0].ok
        ? (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`)).rows
        : [];
      counts[`${t.schema}.${t.name}`] = Number(rows[0]?.n ?? 0);
    }
  });
  return counts;
}

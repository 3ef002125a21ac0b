// `cdc-pipeline fence`: the first thing done to an old primary that comes back after a failover, before
// anything else. Its connectors are stopped (so nothing written there reaches a topic or a target) and its
// source database is made read-only (so nothing is written there). Idempotent: a connector already gone or
// stopped, a database already read-only, are fenced.
import { connectHttp } from "../lib/connect-rest";
import { getStatus, requestState, waitForState } from "../lib/connector-api";
import { fencePostgresDatabase, fenceSqlServerDatabase, type DatabaseFence } from "../lib/fencing";
import { pipelineNames } from "../lib/pipeline-names";
import { withClient } from "../lib/postgres";
import { withSqlServer } from "../lib/sqlserver";
import { sourceConnection, type StackSite } from "./stacks";

export interface FenceReport {
  readonly stack: string;
  /** Each connector of the stack: stopped by fencing, already stopped, or not there at all. */
  readonly connectors: { readonly name: string; readonly was: string }[];
  readonly source: DatabaseFence;
}

/** How long a stop may take to reach every task. */
const STOP_TIMEOUT_MS = 60_000;

/** Fences a stack's site: connectors stopped first (they would otherwise stream a write that slips in), then the source. */
export async function fenceSite(site: StackSite): Promise<FenceReport> {
  const { settings } = site;
  const secrets = [site.sourcePassword, site.targetPassword];
  const names = pipelineNames(settings.pipeline, settings.source);
  const http = connectHttp({ url: settings.kafkaConnect.url }, 10_000);
  const connectors: FenceReport["connectors"][number][] = [];
  for (const name of [names.sourceConnector, names.sinkConnector]) {
    const status = await getStatus(http, name, secrets);
    if (!status) {
      connectors.push({ name, was: "absent" });
      continue;
    }
    await requestState(http, name, "stopped", secrets);
    await waitForState(http, name, "stopped", STOP_TIMEOUT_MS, secrets);
    connectors.push({ name, was: status.state });
  }
  const conn = sourceConnection(site);
  const source =
    settings.source.engine === "postgres"
      ? await withClient({ ...conn, database: "postgres" }, (c) => fencePostgresDatabase(c, conn.database))
      : await withSqlServer({ ...conn, database: "master" }, (c) => fenceSqlServerDatabase(c, conn.database));
  if (!source.readOnly) throw new Error(`fencing ${site.stack.name}: ${conn.database} is still writable`);
  return { stack: site.stack.name, connectors, source };
}

export function describeFence(r: FenceReport): string {
  const connectors = r.connectors.map((c) => `${c.name} ${c.was === "absent" ? "absent" : `stopped (was ${c.was})`}`);
  return (
    `fenced ${r.stack}: ${connectors.join(", ")}; source ${r.source.database} read-only, ` +
    `${r.source.sessionsEnded} session(s) ended`
  );
}

// Where the Debezium SQL Server source connector has got to in a database: the LSN it last committed, read
// from its offsets over Kafka Connect's REST API. SqlServerCdc retires an old capture instance only once
// this position has passed the new instance's start (Debezium's online schema update).
import { connectHttp, connectionSecrets, httpStatusOf, type ConnectConnection } from "./connect-rest";
import { getConfig, getOffsets, type ConnectorOffsets } from "./connector-api";

/**
 * An LSN as lower-case hex digits without separators, so that Debezium's offsets ("0000002d:00000af8:0003",
 * io.debezium.connector.sqlserver.Lsn) and SQL Server's CONVERT(char(20), lsn, 2) compare as text.
 */
export const normalLsn = (lsn: string): string => lsn.replace(/[^0-9A-Fa-f]/g, "").toLowerCase();

/**
 * The Debezium SQL Server connector's committed position in this database (its offset's commit_lsn, in the
 * partition {server, database}); null before it has committed one.
 */
export function committedLsn(offsets: ConnectorOffsets, database: string): string | null {
  const partition = offsets.offsets.find((o) => o.partition.database === database);
  const lsn = partition?.offset?.commit_lsn;
  return typeof lsn === "string" && /[0-9a-f]/i.test(lsn) && lsn !== "NULL" ? normalLsn(lsn) : null;
}

/** A source connector on a Connect cluster. */
export interface SourceConnectorRef {
  /** The cluster it runs on. */
  readonly cluster: ConnectConnection;
  /** Its name. */
  readonly name: string;
}

/**
 * The connector's committed LSN in `database`; null without a connector, when it does not exist (yet), or
 * before it has committed one.
 */
export async function readConnectorLsn(
  connector: SourceConnectorRef | undefined,
  database: string,
): Promise<string | null> {
  if (!connector) return null;
  const http = connectHttp(connector.cluster);
  const secrets = connectionSecrets(connector.cluster);
  if (!(await getConfig(http, connector.name, secrets))) return null;
  // A worker before Connect 3.5 has no offsets endpoint: the position is unknown, and nothing is retired.
  const offsets = await getOffsets(http, connector.name, secrets).catch((err: unknown) => {
    if (httpStatusOf(err) === 404 || httpStatusOf(err) === 405) return undefined;
    throw err;
  });
  return offsets ? committedLsn(offsets, database) : null;
}

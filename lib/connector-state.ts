// What a KafkaConnector's state records about its connector, and how that record is compared with the
// declared connector: the live config without its secrets, salted hashes of the sensitive config and of
// the cluster's credentials (a rotated token or password is a change, yet neither is stored as a hash
// cheap to brute-force), and the runtime status.
import { connectHttp, connectionCredentials, connectionSecrets, type ConnectConnection } from "./connect-rest";
import {
  getConfig,
  getStatus,
  getTopics,
  workerVersion,
  type ConnectorOffsets,
  type ConnectorStatus,
  type TaskStatus,
} from "./connector-api";
import { changedKeys, hashSecrets, isMasked, visibleConfig, type ConnectorConfig } from "./connector-config";
import type { ProviderState } from "./versioned-provider";

/** The connector as the worker shows it, as the state records it. */
export interface ConnectorObservation {
  /** The live config without server, sensitive and ignored keys. */
  config: ConnectorConfig;
  /** Hash of the live values of the sensitive keys (the recorded hash while the worker masks them). */
  sensitiveHash: string;
  /** Live connector state in lower case: running, paused, stopped, failed, unassigned, restarting. */
  state: string;
  tasks: TaskStatus[];
  workerId: string;
  workerVersion: string;
  topics: string[];
}

/** How the secrets are compared without being stored. */
export interface RecordedSecrets {
  /** The keys of the sensitive config, sorted. */
  sensitiveKeys: string[];
  /** Hash of the sensitive config's values. */
  sensitiveHash: string;
  /** Hash of everything the cluster connection carries besides its URL; "" when it carries nothing else. */
  clusterHash: string;
  /** The resource's own salt for both hashes, drawn at create. */
  salt: string;
}

/** The settings a declared connector and its record share. */
interface ConnectorSettings {
  name: string;
  readyTimeoutSeconds: number;
  restartFailedTasks: boolean;
  offsetsPolicy: string;
  ignoreKeys: string[];
  validate: boolean;
  offsetsResetToken?: string;
  /** Where a source resumes once its recorded position was lost: written when its token changes. */
  resumeFrom?: ResumePoint;
}

/** Offsets for a connector to resume from, and the token that says which loss they answer. */
export interface ResumePoint {
  /** Changes whenever there is a new position to resume from (a replication slot made again). */
  token: string;
  /** The offsets to write, as Connect's PATCH /offsets takes them. */
  offsets: ConnectorOffsets["offsets"];
}

/** A connector as declared, once check has normalised it. */
export interface DeclaredConnector extends ConnectorSettings {
  cluster: ConnectConnection;
  config: ConnectorConfig;
  sensitiveConfig: ConnectorConfig;
  /** The desired state: running, paused or stopped. */
  state: string;
}

/** A connector as the state records it. */
export interface RecordedConnector extends ConnectorSettings, RecordedSecrets, ConnectorObservation {
  /** The connection the connector was last written or read with, credentials included (a secret output). */
  cluster: ConnectConnection;
  /** The cluster's URL, in the clear. */
  url: string;
}

/** Every value to keep out of messages: the connection's secrets and the sensitive config. */
export function connectorSecrets(declared: Pick<DeclaredConnector, "cluster" | "sensitiveConfig">): string[] {
  return [...connectionSecrets(declared.cluster), ...Object.values(declared.sensitiveConfig)];
}

/** The hash of a connection's credentials; hashing is deliberately slow, so a bare URL is not hashed. */
export function clusterCredentialsHash(cluster: ConnectConnection, salt: string): string {
  const credentials = connectionCredentials(cluster);
  return Object.keys(credentials).length === 0 ? "" : hashSecrets(credentials, salt);
}

/** The recorded secrets of a declared connector. */
export function recordSecrets(
  declared: Pick<DeclaredConnector, "cluster" | "sensitiveConfig">,
  salt: string,
): RecordedSecrets {
  return {
    sensitiveKeys: Object.keys(declared.sensitiveConfig).sort(),
    sensitiveHash: hashSecrets(declared.sensitiveConfig, salt),
    clusterHash: clusterCredentialsHash(declared.cluster, salt),
    salt,
  };
}

/**
 * Reads the connector as it is; undefined when the worker has no such connector. With `established`, the
 * status is that one instead of a second reading.
 */
export async function readLiveConnector(
  where: Pick<DeclaredConnector, "cluster" | "name" | "ignoreKeys">,
  recorded: Pick<RecordedSecrets, "sensitiveKeys" | "sensitiveHash" | "salt">,
  secrets: readonly string[],
  established?: ConnectorStatus,
): Promise<ConnectorObservation | undefined> {
  const http = connectHttp(where.cluster);
  const live = await getConfig(http, where.name, secrets);
  if (!live) return undefined;
  const [status, topics, version] = await Promise.all([
    established ?? getStatus(http, where.name, secrets),
    getTopics(http, where.name, secrets),
    workerVersion(http, secrets),
  ]);
  const liveSecrets = Object.fromEntries(
    recorded.sensitiveKeys.filter((key) => key in live).map((key) => [key, live[key]]),
  );
  // A masked secret cannot be compared: it counts as unchanged.
  const masked = Object.values(liveSecrets).some(isMasked);
  return {
    config: visibleConfig(live, recorded.sensitiveKeys, where.ignoreKeys),
    sensitiveHash: masked ? recorded.sensitiveHash : hashSecrets(liveSecrets, recorded.salt),
    state: (status?.state ?? "UNASSIGNED").toLowerCase(),
    tasks: status?.tasks ?? [],
    workerId: status?.workerId ?? "",
    workerVersion: version,
    topics,
  };
}

/**
 * The record of a connector declared as D: the declared settings and connection without the sensitive
 * config, the desired state and the offsets source (the live state, the hashes and the URL instead).
 */
export type RecordOf<D> = Omit<D, "sensitiveConfig" | "offsetsFrom" | "state"> &
  RecordedSecrets &
  ConnectorObservation & { url: string };

/** The record of a declared connector as observed. */
export function connectorRecord<D extends DeclaredConnector & { offsetsFrom?: unknown }>(
  declared: D,
  secrets: RecordedSecrets,
  observed: ConnectorObservation,
): RecordOf<D> {
  const { sensitiveConfig: _secret, offsetsFrom: _from, state: _desired, ...settings } = declared;
  return { ...settings, ...secrets, ...observed, url: declared.cluster.url };
}

/**
 * The record after create or update, with the status the wait saw reach the state: a second reading a
 * moment later could show something the wait did not establish, such as a task that was just started
 * failing, and that is for the next refresh to report.
 */
export async function recordDeployed<D extends DeclaredConnector & { offsetsFrom?: unknown }>(
  declared: D,
  salt: string,
  secrets: readonly string[],
  reached: ConnectorStatus,
): Promise<RecordOf<D>> {
  const recorded = recordSecrets(declared, salt);
  const observed = await readLiveConnector(declared, recorded, secrets, reached);
  if (!observed) {
    throw new Error(`Connector '${declared.name}' disappeared from ${declared.cluster.url} while being deployed`);
  }
  return connectorRecord(declared, recorded, observed);
}

/** How a recorded connector differs from the declared one. */
export interface ConnectorDifferences {
  /** The properties whose change makes it another connector: a new name, another cluster. */
  replaces: string[];
  /** Something to write to the worker: config, secrets, state, failed tasks, a setting, an offsets reset. */
  connector: boolean;
  /** The cluster's credentials changed (a rotated token, password or certificate): only the state must follow. */
  credentials: boolean;
}

const SETTING_KEYS = ["readyTimeoutSeconds", "restartFailedTasks", "offsetsPolicy", "validate"] as const;

export function connectorDifferences(recorded: RecordedConnector, declared: DeclaredConnector): ConnectorDifferences {
  const replaces = [
    ...(recorded.name !== declared.name ? ["name"] : []),
    ...(recorded.url !== declared.cluster.url ? ["cluster"] : []),
  ];
  const secretsChanged =
    JSON.stringify(recorded.sensitiveKeys) !== JSON.stringify(Object.keys(declared.sensitiveConfig).sort()) ||
    hashSecrets(declared.sensitiveConfig, recorded.salt) !== recorded.sensitiveHash;
  const connector =
    changedKeys(recorded.config, declared.config, declared.ignoreKeys).length > 0 ||
    secretsChanged ||
    recorded.state !== declared.state ||
    recorded.tasks.some((t) => t.state === "FAILED") ||
    SETTING_KEYS.some((key) => recorded[key] !== declared[key]) ||
    JSON.stringify(recorded.ignoreKeys) !== JSON.stringify(declared.ignoreKeys) ||
    recorded.offsetsResetToken !== declared.offsetsResetToken ||
    recorded.resumeFrom?.token !== declared.resumeFrom?.token;
  const credentials = recorded.clusterHash !== clusterCredentialsHash(declared.cluster, recorded.salt);
  return { replaces, connector, credentials };
}

/**
 * Version 1 (before the cluster's credentials were hashed) to 2: the hash of the credentials the state
 * holds, so that the same credentials declared again are no change and a rotated one is.
 */
export function addClusterHash(state: ProviderState): ProviderState {
  const { cluster, salt } = state as Pick<RecordedConnector, "cluster" | "salt">;
  return { ...state, clusterHash: clusterCredentialsHash(cluster, salt) };
}

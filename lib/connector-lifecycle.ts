// A connector's lifecycle as KafkaConnector runs it over the REST API: validated by its plugin, created
// (or adopted when an identical one exists) and waited for, rewritten, handed over to a renamed or moved
// successor with its offsets, taking over a hand-made connector's offsets, and deleted with or without them.
import { connectHttp, httpStatusOf, isConnectError, workerFeatures, type ConnectConnection } from "./connect-rest";
import {
  applyConfig,
  deleteConnector,
  getConfig,
  getOffsets,
  patchOffsets,
  postConnector,
  requestState,
  resetOffsets,
  validateConfig,
  waitForState,
  workerVersion,
  type ConnectorOffsets,
  type ConnectorStatus,
  type DesiredState,
} from "./connector-api";
import { changedKeys, type ConnectorConfig } from "./connector-config";
import type { AdoptionKey } from "./debezium-configs";

/** Plugins test connections while validating: SQL Server's driver alone retries for about 30 s. */
const VALIDATE_TIMEOUT_MS = 120_000;

/** A connector to write: where, what and in which state. */
export interface ConnectorDeployment {
  /** The Connect cluster. */
  readonly cluster: ConnectConnection;
  /** The connector's name on the worker. */
  readonly name: string;
  /** The whole config to write, the sensitive config merged in. */
  readonly config: ConnectorConfig;
  /** The state to reach. */
  readonly state: DesiredState;
  /** How long to wait for the connector and its tasks to reach it. */
  readonly readyTimeoutSeconds: number;
}

/** The connector a replacement takes over the offsets of: only its URL and name (see offsetsSource). */
export interface OffsetsSource {
  readonly url: string;
  readonly name: string;
  /** A hand-made connector being adopted: deleted once the new one has reached its state. */
  readonly adopted?: boolean;
}

/** A hand-made connector to adopt on first create, and the keys it must share with the declared config. */
export interface Adoption {
  /** Its name on the same cluster. */
  readonly name: string;
  /** Config keys whose values must be the same (lib/debezium-configs ADOPTION_KEYS). */
  readonly sameKeys: Readonly<Record<string, AdoptionKey>>;
}

/**
 * The plugin's own problems with a config (PUT /connector-plugins/{class}/config/validate), as messages;
 * none when the worker cannot be reached (for example one this deployment creates): create validates then.
 */
export async function pluginValidationProblems(
  cluster: ConnectConnection,
  name: string,
  config: ConnectorConfig,
  secrets: readonly string[],
): Promise<string[]> {
  try {
    return await validateConfig(connectHttp(cluster, VALIDATE_TIMEOUT_MS), name, config, secrets);
  } catch (err) {
    if (isConnectError(err) && err.status === undefined) return [];
    return [
      httpStatusOf(err) === 404
        ? `connector.class '${config["connector.class"]}' is not installed on ${cluster.url}`
        : `validation failed: ${(err as Error).message}`,
    ];
  }
}

/**
 * At preview: why the worker cannot hold the declared state (a stopped connector needs Connect 3.5+), as a
 * message naming what is allowed; none when it can, or when the worker cannot be reached (one this deployment
 * creates): create checks then.
 */
export async function stateSupportProblem(
  cluster: ConnectConnection,
  state: DesiredState,
  secrets: readonly string[],
): Promise<string | undefined> {
  if (state !== "stopped") return undefined;
  let version: string;
  try {
    version = await workerVersion(connectHttp(cluster), secrets);
  } catch (err) {
    if (isConnectError(err) && err.status === undefined) return undefined;
    throw err;
  }
  if (workerFeatures(version).stop) return undefined;
  return `'stopped' needs Kafka Connect 3.5 or later and ${cluster.url} runs ${version}: use running or paused`;
}

/**
 * The connector whose offsets a declared one takes over, so that a Debezium source does not snapshot again:
 * on first create, the hand-made connector it adopts; on a rename or a move to another cluster (a
 * replacement) with offsetsPolicy "keep", the one declared before. Only its name and URL: the state keeps no
 * second set of credentials, so the offsets are read with the new cluster's credentials.
 */
export function offsetsSource(
  before: { name?: string; cluster?: { url: string } },
  declared: { name: string; cluster: { url: string }; offsetsPolicy: string; adoptFrom?: Adoption },
): OffsetsSource | undefined {
  if (!before.name && declared.adoptFrom) {
    return { url: declared.cluster.url, name: declared.adoptFrom.name, adopted: true };
  }
  if (!before.name || !before.cluster || declared.offsetsPolicy !== "keep") return undefined;
  if (before.name === declared.name && before.cluster.url === declared.cluster.url) return undefined;
  return { url: before.cluster.url, name: before.name };
}

/** A hand-made connector to adopt that is not there, and the way out. */
const missingHandMade = (name: string, handMade: string, url: string): string =>
  `the connector to adopt, '${handMade}', is not on ${url}: name one that is, or remove adoptFrom to create ` +
  `'${name}' afresh (a source then snapshots)`;

/**
 * At preview: why the hand-made connector cannot be adopted, as messages naming the stack key to set; none
 * when it can, when the worker cannot be reached (one this deployment creates), or when it is gone and the
 * declared connector is there (adopted by an earlier run that failed before recording it).
 */
export async function adoptionProblems(
  cluster: ConnectConnection,
  name: string,
  config: ConnectorConfig,
  adoption: Adoption,
  secrets: readonly string[],
): Promise<string[]> {
  const http = connectHttp(cluster);
  const configOf = (connector: string) =>
    getConfig(http, connector, secrets).catch((err: unknown) => {
      if (isConnectError(err) && err.status === undefined) return "unreachable" as const;
      throw err;
    });
  const handMade = await configOf(adoption.name);
  if (handMade === "unreachable") return [];
  if (!handMade) return (await configOf(name)) ? [] : [missingHandMade(name, adoption.name, cluster.url)];
  return Object.entries(adoption.sameKeys).flatMap(([key, { setBy, pluginDefault }]) => {
    const theirs = handMade[key] ?? pluginDefault;
    if (theirs === config[key]) return [];
    return [
      `'${adoption.name}' has ${key} ${theirs === undefined ? "unset" : `'${theirs}'`}, and its offsets refer ` +
        `to it, while this stack declares '${config[key]}': set ${setBy} to that value to adopt it`,
    ];
  });
}

/** The stopped state needs Connect 3.5+; fail before changing anything on an older worker. */
function requireStopSupport(deployment: ConnectorDeployment, supported: boolean): void {
  if (deployment.state === "stopped" && !supported) {
    throw new Error(
      `Connector '${deployment.name}': ${deployment.cluster.url} runs Kafka Connect < 3.5, which cannot stop a connector; use state "paused"`,
    );
  }
}

/** An existing connector of that name is taken on only when its config is the one to write. */
async function requireSameConfig(deployment: ConnectorDeployment, secrets: readonly string[]): Promise<void> {
  const existing = (await getConfig(connectHttp(deployment.cluster), deployment.name, secrets)) ?? {};
  const differing = changedKeys(existing, deployment.config);
  if (differing.length > 0) {
    throw new Error(
      `Connector '${deployment.name}' already exists on ${deployment.cluster.url} with a different config ` +
        `(keys: ${differing.join(", ")}); delete it, or give this resource another name`,
    );
  }
}

/**
 * Hands over from the connector being replaced (a former name, the same name on another cluster, or a
 * hand-made one being adopted): stops it, so that it neither moves past the offsets taken over nor holds a
 * replication slot the new one needs, then copies its committed offsets to the new, stopped connector. A
 * connector that was there before this create and has offsets of its own (an earlier run's, which failed
 * after the hand-over) keeps them: they are further on.
 */
async function takeOverOffsets(
  deployment: ConnectorDeployment,
  from: OffsetsSource,
  created: boolean,
  secrets: readonly string[],
): Promise<void> {
  const old = connectHttp({ ...deployment.cluster, url: from.url });
  if (!created) {
    const own = await getOffsets(connectHttp(deployment.cluster), deployment.name, secrets);
    if (own.offsets.some((o) => o.offset !== null)) return;
  }
  if (await getConfig(old, from.name, secrets)) {
    await requestState(old, from.name, "stopped", secrets);
    await waitForState(old, from.name, "stopped", deployment.readyTimeoutSeconds * 1000, secrets);
  } else if (from.adopted) {
    throw new Error(`Connector '${deployment.name}': ${missingHandMade(deployment.name, from.name, from.url)}`);
  }
  const offsets = await getOffsets(old, from.name, secrets).catch((err: Error) => {
    throw new Error(
      `Connector '${deployment.name}': cannot read the offsets of '${from.name}' at ${from.url} to keep them ` +
        `(${err.message}); set offsetsPolicy to "reset" to start without them`,
    );
  });
  const present = offsets.offsets.filter((o) => o.offset !== null);
  if (present.length > 0) {
    await patchOffsets(connectHttp(deployment.cluster), deployment.name, { offsets: present }, secrets);
  }
}

/**
 * Creates the connector, or adopts an identical existing one, takes over `offsetsFrom`'s offsets, and waits
 * until it reaches its state; returns the status that showed it. On failure a connector it created is
 * deleted again, so the next `pulumi up` starts from a clean slate.
 */
export async function deployConnector(
  deployment: ConnectorDeployment,
  offsetsFrom: OffsetsSource | undefined,
  secrets: readonly string[],
): Promise<ConnectorStatus> {
  const { name, state } = deployment;
  const http = connectHttp(deployment.cluster);
  const timeoutMs = deployment.readyTimeoutSeconds * 1000;
  const features = workerFeatures(await workerVersion(http, secrets));
  requireStopSupport(deployment, features.stop);
  let created = false;
  // Whether the connector is already headed for the desired state (posted with that initial_state).
  let headed = false;
  if (await getConfig(http, name, secrets)) {
    await requireSameConfig(deployment, secrets);
  } else {
    // With offsets to carry over, start stopped: offsets can only be written to a stopped connector.
    const first: DesiredState = offsetsFrom ? "stopped" : state;
    const initial = features.initialState ? first : undefined;
    const outcome = await postConnector(http, name, deployment.config, initial, secrets);
    if (outcome === "exists") await requireSameConfig(deployment, secrets);
    created = outcome === "created";
    headed = created && initial === state;
  }
  try {
    if (offsetsFrom) {
      if (!features.offsets) {
        throw new Error(
          `Connector '${name}': the worker on ${deployment.cluster.url} cannot write offsets (Connect < 3.6)`,
        );
      }
      await requestState(http, name, "stopped", secrets);
      await waitForState(http, name, "stopped", timeoutMs, secrets);
      await takeOverOffsets(deployment, offsetsFrom, created, secrets);
    }
    if (!headed) await requestState(http, name, state, secrets);
    const reached = await waitForState(http, name, state, timeoutMs, secrets);
    // Adopted: the hand-made connector has handed over, and would only be restarted by mistake.
    if (offsetsFrom?.adopted) {
      await deleteConnector(connectHttp({ ...deployment.cluster, url: offsetsFrom.url }), offsetsFrom.name, secrets);
    }
    return reached;
  } catch (err) {
    if (created) await deleteConnector(http, name, secrets).catch(() => undefined);
    throw err;
  }
}

/** A token newly set or changed resets the offsets; one removed does not. */
export function offsetsResetRequested(recordedToken: string | undefined, declaredToken: string | undefined): boolean {
  return declaredToken !== undefined && recordedToken !== declaredToken;
}

/**
 * Writes the whole config of an existing connector, the live values of its ignored keys kept (first resetting
 * its offsets with `resetOffsets`, writing `writeOffsets`), restarts failed tasks once with `restartFailedTasks`, and waits until it
 * reaches its state.
 */
export async function redeployConnector(
  deployment: ConnectorDeployment & {
    readonly restartFailedTasks: boolean;
    readonly resetOffsets: boolean;
    /** Offsets to write first (a source resuming after its position was lost). Default: none. */
    readonly writeOffsets?: ConnectorOffsets;
    /** Keys something else manages: their live values are kept. */
    readonly ignoreKeys: readonly string[];
  },
  secrets: readonly string[],
): Promise<ConnectorStatus> {
  const http = connectHttp(deployment.cluster);
  const features = workerFeatures(await workerVersion(http, secrets));
  requireStopSupport(deployment, features.stop);
  if ((deployment.resetOffsets || deployment.writeOffsets) && !features.offsets) {
    throw new Error(`Connector '${deployment.name}': ${deployment.cluster.url} cannot write offsets (Connect < 3.6)`);
  }
  return applyConfig(
    http,
    deployment.name,
    deployment.config,
    deployment.state,
    deployment.readyTimeoutSeconds * 1000,
    secrets,
    {
      canStop: features.stop,
      restartFailed: deployment.restartFailedTasks,
      resetOffsets: deployment.resetOffsets,
      writeOffsets: deployment.writeOffsets,
      keepLive: deployment.ignoreKeys,
    },
  );
}

/**
 * Deletes the connector (one already gone is success); with offsetsPolicy "reset" on a worker that can
 * (Connect 3.6+, by the recorded version), first stops it and deletes its offsets.
 */
export async function removeConnector(
  recorded: {
    readonly cluster: ConnectConnection;
    readonly name: string;
    readonly offsetsPolicy: string;
    readonly workerVersion: string;
    readonly readyTimeoutSeconds: number;
  },
  secrets: readonly string[],
): Promise<void> {
  const http = connectHttp(recorded.cluster);
  if (recorded.offsetsPolicy === "reset" && workerFeatures(recorded.workerVersion).offsets) {
    if (await getConfig(http, recorded.name, secrets)) {
      await requestState(http, recorded.name, "stopped", secrets);
      await waitForState(http, recorded.name, "stopped", recorded.readyTimeoutSeconds * 1000, secrets);
      await resetOffsets(http, recorded.name, secrets);
    }
  }
  await deleteConnector(http, recorded.name, secrets);
}

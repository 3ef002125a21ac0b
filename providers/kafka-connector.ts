// KafkaConnector: a Kafka Connect connector as a declarative, drift-aware resource. Its config is compared
// semantically, its secrets are sent to the worker but stored only as a salted hash, its running, paused
// or stopped state is held, and create and update return only once the connector and its tasks are there.
import * as pulumi from "@pulumi/pulumi";
import {
  isConnectError,
  httpStatusOf,
  connectHttp,
  connectionSecrets,
  workerFeatures,
  type ConnectConnection,
} from "../lib/connect-rest";
import {
  applyConfig,
  deleteConnector,
  getConfig,
  getOffsets,
  getStatus,
  getTopics,
  patchOffsets,
  postConnector,
  requestState,
  resetOffsets,
  validateConfig,
  waitForState,
  workerVersion,
  type ConnectorStatus,
  type DesiredState,
  type TaskStatus,
} from "../lib/connector-api";
import {
  changedKeys,
  hashSecrets,
  isMasked,
  newSalt,
  outdatedKeys,
  stringifyConfig,
  visibleConfig,
  type ConfigValue,
  type ConnectorConfig,
} from "../lib/connector-config";

const STATES: readonly DesiredState[] = ["running", "paused", "stopped"];
const OFFSETS_POLICIES = ["keep", "reset"] as const;
export type OffsetsPolicy = (typeof OFFSETS_POLICIES)[number];

/** Inputs as the provider sees them once check has normalised them. */
export interface KafkaConnectorInputs {
  cluster: ConnectConnection;
  name: string;
  config: ConnectorConfig;
  sensitiveConfig: ConnectorConfig;
  state: DesiredState;
  readyTimeoutSeconds: number;
  restartFailedTasks: boolean;
  offsetsPolicy: OffsetsPolicy;
  ignoreKeys: string[];
  validate: boolean;
  /** Setting or changing it resets the committed offsets on update (a Debezium source then snapshots again). */
  offsetsResetToken?: string;
  /**
   * Set by check on a rename or a move to another cluster with offsetsPolicy "keep": the connector whose
   * offsets the new one takes over. Only its name and URL: the state keeps no second set of credentials,
   * so the current cluster's credentials are used to read them.
   */
  offsetsFrom?: { url: string; name: string };
}

/** The state: settings, the live config without secrets, the secrets' hash, the runtime status. */
export interface KafkaConnectorState extends Omit<KafkaConnectorInputs, "sensitiveConfig" | "offsetsFrom" | "state"> {
  url: string;
  sensitiveKeys: string[];
  sensitiveHash: string;
  salt: string;
  /** Live connector state in lower case: running, paused, stopped, failed, unassigned, restarting. */
  state: string;
  tasks: TaskStatus[];
  workerId: string;
  workerVersion: string;
  topics: string[];
}

/** Plugins test connections while validating: SQL Server's driver alone retries for about 30 s. */
const VALIDATE_TIMEOUT_MS = 120_000;

/** What the engine passes for a value not known until apply (pulumi's rpc.unknownValue). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Whether a value the provider works with is still unknown (never look at __provider: it holds this code). */
const hasUnknown = (inputs: Record<string, unknown>): boolean =>
  JSON.stringify([inputs.cluster, inputs.name, inputs.config, inputs.sensitiveConfig]).includes(UNKNOWN);

const secretsOf = (inputs: { cluster: ConnectConnection; sensitiveConfig?: ConnectorConfig }): string[] => [
  ...connectionSecrets(inputs.cluster),
  ...Object.values(inputs.sensitiveConfig ?? {}),
];

const isStringMap = (value: unknown, allow: (v: unknown) => boolean): boolean =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every(allow);

/** Input problems that need no worker, each naming its property. */
export function inputFailures(news: Record<string, unknown>): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  const name = news.name;
  if (typeof name !== "string" || name.trim() !== name || name.length === 0 || name.length > 249) {
    fail("name", "must be 1 to 249 characters without leading or trailing blanks");
  } else if (/[\u0000-\u001f/\\]/.test(name)) {
    fail("name", "must not contain control characters, '/' or '\\'");
  }
  const cluster = news.cluster as Partial<ConnectConnection> | undefined;
  let url: URL | undefined;
  try {
    url = new URL(String(cluster?.url));
  } catch {
    // reported below
  }
  if (!url || !["http:", "https:"].includes(url.protocol)) {
    fail("cluster", `cluster.url must be an http(s) URL of a Kafka Connect worker, got '${cluster?.url}'`);
  }
  const scalar = (v: unknown) => ["string", "number", "boolean"].includes(typeof v);
  if (!isStringMap(news.config, scalar)) {
    fail("config", "must be a map of string, number or boolean values");
  } else {
    const config = news.config as Record<string, unknown>;
    if (typeof config["connector.class"] !== "string" || config["connector.class"] === "") {
      fail("config", "'connector.class' is required");
    }
    for (const problem of outdatedKeys(stringifyConfig(config as Record<string, ConfigValue>))) fail("config", problem);
  }
  if (!isStringMap(news.sensitiveConfig, (v) => typeof v === "string")) {
    fail("sensitiveConfig", "must be a map of string values");
  } else if (isStringMap(news.config, scalar)) {
    const both = Object.keys(news.sensitiveConfig as object).filter((key) => key in (news.config as object));
    if (both.length > 0) fail("sensitiveConfig", `keys in both config and sensitiveConfig: ${both.join(", ")}`);
  }
  if (!STATES.includes(news.state as DesiredState)) {
    fail("state", `must be one of ${STATES.join(", ")}, got '${String(news.state)}'`);
  }
  const timeout = news.readyTimeoutSeconds;
  if (typeof timeout !== "number" || !(timeout > 0 && timeout <= 3600)) {
    fail("readyTimeoutSeconds", `must be a number of seconds from 1 to 3600, got '${String(timeout)}'`);
  }
  if (typeof news.restartFailedTasks !== "boolean") fail("restartFailedTasks", "must be true or false");
  if (!OFFSETS_POLICIES.includes(news.offsetsPolicy as OffsetsPolicy)) {
    fail("offsetsPolicy", `must be one of ${OFFSETS_POLICIES.join(", ")}, got '${String(news.offsetsPolicy)}'`);
  }
  if (!Array.isArray(news.ignoreKeys) || news.ignoreKeys.some((k) => typeof k !== "string")) {
    fail("ignoreKeys", "must be a list of config keys");
  }
  if (typeof news.validate !== "boolean") fail("validate", "must be true or false");
  if (news.offsetsResetToken !== undefined && typeof news.offsetsResetToken !== "string") {
    fail("offsetsResetToken", "must be a string");
  }
  return failures;
}

/**
 * Reads the connector as it is; undefined when the worker has no such connector. With `established`, the
 * status is that one instead of a second reading.
 */
async function observe(
  inputs: Pick<KafkaConnectorInputs, "cluster" | "name" | "ignoreKeys">,
  recorded: { sensitiveKeys: string[]; sensitiveHash: string; salt: string },
  secrets: string[],
  established?: ConnectorStatus,
): Promise<
  | Pick<KafkaConnectorState, "config" | "sensitiveHash" | "state" | "tasks" | "workerId" | "workerVersion" | "topics">
  | undefined
> {
  const http = connectHttp(inputs.cluster);
  const live = await getConfig(http, inputs.name, secrets);
  if (!live) return undefined;
  const [status, topics, version] = await Promise.all([
    established ?? getStatus(http, inputs.name, secrets),
    getTopics(http, inputs.name, secrets),
    workerVersion(http, secrets),
  ]);
  const liveSecrets = Object.fromEntries(
    recorded.sensitiveKeys.filter((key) => key in live).map((key) => [key, live[key]]),
  );
  // A masked secret cannot be compared: it counts as unchanged.
  const masked = Object.values(liveSecrets).some(isMasked);
  return {
    config: visibleConfig(live, recorded.sensitiveKeys, inputs.ignoreKeys),
    sensitiveHash: masked ? recorded.sensitiveHash : hashSecrets(liveSecrets, recorded.salt),
    state: (status?.state ?? "UNASSIGNED").toLowerCase(),
    tasks: status?.tasks ?? [],
    workerId: status?.workerId ?? "",
    workerVersion: version,
    topics,
  };
}

/**
 * The state to record after create or update, with the status the wait saw reach the state: a second
 * reading a moment later could show something the wait did not establish, such as a task that was just
 * started failing, and that is for the next refresh to report.
 */
async function record(
  inputs: KafkaConnectorInputs,
  salt: string,
  secrets: string[],
  reached: ConnectorStatus,
): Promise<KafkaConnectorState> {
  const sensitive = { sensitiveKeys: Object.keys(inputs.sensitiveConfig).sort(), salt, sensitiveHash: "" };
  sensitive.sensitiveHash = hashSecrets(inputs.sensitiveConfig, salt);
  const live = await observe(inputs, sensitive, secrets, reached);
  if (!live) throw new Error(`Connector '${inputs.name}' disappeared from ${inputs.cluster.url} while being deployed`);
  const { sensitiveConfig: _secret, offsetsFrom: _from, ...settings } = inputs;
  return { ...settings, ...sensitive, ...live, url: inputs.cluster.url };
}

/** The stopped state needs Connect 3.5+; fail before changing anything on an older worker. */
function requireStopSupport(inputs: KafkaConnectorInputs, supported: boolean): void {
  if (inputs.state === "stopped" && !supported) {
    throw new Error(
      `Connector '${inputs.name}': ${inputs.cluster.url} runs Kafka Connect < 3.5, which cannot stop a connector; use state "paused"`,
    );
  }
}

const merged = (inputs: KafkaConnectorInputs): ConnectorConfig => ({ ...inputs.config, ...inputs.sensitiveConfig });

/**
 * Hands over from the connector being replaced (a former name, or the same name on another cluster): stops
 * it, so that it neither moves past the offsets taken over nor holds a replication slot the new one needs,
 * then copies its committed offsets to the new, stopped connector.
 */
async function takeOverOffsets(inputs: KafkaConnectorInputs, secrets: string[]): Promise<void> {
  const from = inputs.offsetsFrom!;
  const old = connectHttp({ ...inputs.cluster, url: from.url });
  if (await getConfig(old, from.name, secrets)) {
    await requestState(old, from.name, "stopped", secrets);
    await waitForState(old, from.name, "stopped", inputs.readyTimeoutSeconds * 1000, secrets);
  }
  const offsets = await getOffsets(old, from.name, secrets).catch((err: Error) => {
    throw new Error(
      `Connector '${inputs.name}': cannot read the offsets of '${from.name}' at ${from.url} to keep them ` +
        `(${err.message}); set offsetsPolicy to "reset" to start without them`,
    );
  });
  const present = offsets.offsets.filter((o) => o.offset !== null);
  if (present.length > 0) {
    await patchOffsets(connectHttp(inputs.cluster), inputs.name, { offsets: present }, secrets);
  }
}

export const kafkaConnectorProvider: pulumi.dynamic.ResourceProvider<KafkaConnectorInputs, KafkaConnectorState> = {
  async check(olds, news) {
    const raw = news as unknown as Record<string, unknown>;
    const inputs: Record<string, unknown> = {
      ...raw,
      sensitiveConfig: raw.sensitiveConfig ?? {},
      state: raw.state ?? "running",
      readyTimeoutSeconds: raw.readyTimeoutSeconds ?? 300,
      restartFailedTasks: raw.restartFailedTasks ?? true,
      offsetsPolicy: raw.offsetsPolicy ?? "keep",
      ignoreKeys: raw.ignoreKeys ?? [],
      validate: raw.validate ?? true,
    };
    const failures = inputFailures(inputs);
    if (failures.length > 0 || hasUnknown(inputs))
      return { inputs: inputs as unknown as KafkaConnectorInputs, failures };
    const checked = { ...(inputs as unknown as KafkaConnectorInputs) };
    checked.config = stringifyConfig(inputs.config as Record<string, ConfigValue>);
    delete checked.offsetsFrom;
    // A rename or a move to another cluster is a replacement; with "keep" the new connector takes over
    // the old one's offsets instead of starting over (a Debezium source would otherwise re-snapshot).
    const old = olds as Partial<KafkaConnectorInputs>;
    if (old.name && old.cluster && checked.offsetsPolicy === "keep") {
      if (old.name !== checked.name || old.cluster.url !== checked.cluster.url) {
        checked.offsetsFrom = { url: old.cluster.url, name: old.name };
      }
    }
    if (checked.validate) {
      try {
        const errors = await validateConfig(
          connectHttp(checked.cluster, VALIDATE_TIMEOUT_MS),
          checked.name,
          merged(checked),
          secretsOf(checked),
        );
        return { inputs: checked, failures: errors.map((reason) => ({ property: "config", reason })) };
      } catch (err) {
        // An unreachable worker (for example one this deployment creates) is validated at create time.
        if (!isConnectError(err) || err.status !== undefined) {
          const reason =
            httpStatusOf(err) === 404
              ? `connector.class '${checked.config["connector.class"]}' is not installed on ${checked.cluster.url}`
              : `validation failed: ${(err as Error).message}`;
          return { inputs: checked, failures: [{ property: "config", reason }] };
        }
      }
    }
    return { inputs: checked, failures: [] };
  },

  async diff(_id, olds, news) {
    const replaces = [
      ...(olds.name !== news.name ? ["name"] : []),
      ...(olds.url !== news.cluster.url ? ["cluster"] : []),
    ];
    const secretsChanged =
      JSON.stringify(olds.sensitiveKeys) !== JSON.stringify(Object.keys(news.sensitiveConfig).sort()) ||
      hashSecrets(news.sensitiveConfig, olds.salt) !== olds.sensitiveHash;
    const settingsChanged = (["readyTimeoutSeconds", "restartFailedTasks", "offsetsPolicy", "validate"] as const).some(
      (key) => olds[key] !== news[key],
    );
    const changes =
      replaces.length > 0 ||
      changedKeys(olds.config, news.config, news.ignoreKeys).length > 0 ||
      secretsChanged ||
      olds.state !== news.state ||
      olds.tasks.some((t) => t.state === "FAILED") ||
      settingsChanged ||
      JSON.stringify(olds.ignoreKeys) !== JSON.stringify(news.ignoreKeys) ||
      olds.offsetsResetToken !== news.offsetsResetToken;
    return { changes, replaces };
  },

  async create(inputs) {
    const secrets = secretsOf(inputs);
    const http = connectHttp(inputs.cluster);
    const features = workerFeatures(await workerVersion(http, secrets));
    requireStopSupport(inputs, features.stop);
    const config = merged(inputs);
    const where = `on ${inputs.cluster.url}`;
    const adoptable = async () => {
      const existing = (await getConfig(http, inputs.name, secrets)) ?? {};
      const differing = changedKeys(existing, config);
      if (differing.length > 0) {
        throw new Error(
          `Connector '${inputs.name}' already exists ${where} with a different config (keys: ${differing.join(", ")}); ` +
            `delete it, or give this resource another name`,
        );
      }
    };
    let created = false;
    // Whether the connector is already headed for the desired state (posted with that initial_state).
    let headed = false;
    if (await getConfig(http, inputs.name, secrets)) {
      await adoptable();
    } else {
      // With offsets to carry over, start stopped: offsets can only be written to a stopped connector.
      const first: DesiredState = inputs.offsetsFrom ? "stopped" : inputs.state;
      const initial = features.initialState ? first : undefined;
      const outcome = await postConnector(http, inputs.name, config, initial, secrets);
      if (outcome === "exists") await adoptable();
      created = outcome === "created";
      headed = created && initial === inputs.state;
    }
    let reached: ConnectorStatus;
    try {
      if (inputs.offsetsFrom) {
        if (!features.offsets) {
          throw new Error(`Connector '${inputs.name}': the worker ${where} cannot write offsets (Connect < 3.6)`);
        }
        await requestState(http, inputs.name, "stopped", secrets);
        await waitForState(http, inputs.name, "stopped", inputs.readyTimeoutSeconds * 1000, secrets);
        await takeOverOffsets(inputs, secrets);
      }
      if (!headed) await requestState(http, inputs.name, inputs.state, secrets);
      reached = await waitForState(http, inputs.name, inputs.state, inputs.readyTimeoutSeconds * 1000, secrets);
    } catch (err) {
      // Leave nothing half-made behind: the next `pulumi up` starts from a clean slate.
      if (created) await deleteConnector(http, inputs.name, secrets).catch(() => undefined);
      throw err;
    }
    return { id: inputs.name, outs: await record(inputs, newSalt(), secrets, reached) };
  },

  async read(id, props) {
    if (!props) throw new Error(`KafkaConnector ${id}: cannot read without its recorded cluster`);
    const live = await observe(props, props, connectionSecrets(props.cluster));
    // Deleted out of band: report it gone, so that `pulumi up` creates it again.
    if (!live) return {};
    return { id, props: { ...props, ...live } };
  },

  async update(_id, olds, news) {
    const secrets = secretsOf(news);
    const http = connectHttp(news.cluster);
    const features = workerFeatures(await workerVersion(http, secrets));
    requireStopSupport(news, features.stop);
    // A token newly set or changed resets; one removed does not.
    const reset = news.offsetsResetToken !== undefined && olds.offsetsResetToken !== news.offsetsResetToken;
    if (reset && !features.offsets) {
      throw new Error(`Connector '${news.name}': ${news.cluster.url} cannot reset offsets (Connect < 3.6)`);
    }
    const reached = await applyConfig(
      http,
      news.name,
      merged(news),
      news.state,
      news.readyTimeoutSeconds * 1000,
      secrets,
      { canStop: features.stop, restartFailed: news.restartFailedTasks, resetOffsets: reset },
    );
    return { outs: await record(news, olds.salt, secrets, reached) };
  },

  async delete(_id, props) {
    const secrets = connectionSecrets(props.cluster);
    const http = connectHttp(props.cluster);
    if (props.offsetsPolicy === "reset" && workerFeatures(props.workerVersion).offsets) {
      if (await getConfig(http, props.name, secrets)) {
        await requestState(http, props.name, "stopped", secrets);
        await waitForState(http, props.name, "stopped", props.readyTimeoutSeconds * 1000, secrets);
        await resetOffsets(http, props.name, secrets);
      }
    }
    await deleteConnector(http, props.name, secrets);
  },
};

export interface KafkaConnectorArgs {
  /** The Connect cluster: its URL and, where needed, basic auth, bearer token, TLS material, headers. */
  readonly cluster: pulumi.Input<ConnectConnection>;
  /** Connector name on the worker. Default: the resource name. Changing it replaces the connector. */
  readonly name?: pulumi.Input<string>;
  /** Connector config; numbers and booleans are sent as strings. Must hold `connector.class`. */
  readonly config: pulumi.Input<Record<string, pulumi.Input<ConfigValue>>>;
  /** Secret config (passwords), merged into the config sent to the worker and never stored in plaintext. */
  readonly sensitiveConfig?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Desired state: running, paused or stopped. Default: running. */
  readonly state?: pulumi.Input<DesiredState>;
  /** How long create and update wait for the connector and its tasks to reach the state. Default: 300 s. */
  readonly readyTimeoutSeconds?: pulumi.Input<number>;
  /** Restart failed connector and tasks on update (and so on `up` after a refresh saw them FAILED). Default: true. */
  readonly restartFailedTasks?: pulumi.Input<boolean>;
  /** On delete and replace: keep the committed offsets (carried over to a renamed connector) or reset them. Default: keep. */
  readonly offsetsPolicy?: pulumi.Input<OffsetsPolicy>;
  /** Config keys to leave out of diffs, for keys that something else manages. Default: none. */
  readonly ignoreKeys?: pulumi.Input<pulumi.Input<string>[]>;
  /** Validate the config with the worker's plugin during check. Default: true. */
  readonly validate?: pulumi.Input<boolean>;
  /** Setting or changing it resets the committed offsets on update: a Debezium source snapshots again. Default: none. */
  readonly offsetsResetToken?: pulumi.Input<string>;
}

export class KafkaConnector extends pulumi.dynamic.Resource {
  /** URL of the Connect cluster. */
  declare readonly url: pulumi.Output<string>;
  /** Live connector state: running, paused, stopped, failed, unassigned or restarting. */
  declare readonly state: pulumi.Output<string>;
  /** Live task states and the workers that run them. */
  declare readonly tasks: pulumi.Output<TaskStatus[]>;
  /** Worker running the connector. */
  declare readonly workerId: pulumi.Output<string>;
  /** Kafka Connect version of the cluster. */
  declare readonly workerVersion: pulumi.Output<string>;
  /** Topics the connector has used. */
  declare readonly topics: pulumi.Output<string[]>;
  /** The recorded config (without the sensitive keys). */
  declare readonly config: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: KafkaConnectorArgs, opts?: pulumi.CustomResourceOptions) {
    // Every output must be a key of the properties, or the resource gets no Output for it; `state` is
    // also an input, so an omitted input still gets its output.
    const outputs = {
      url: undefined,
      state: undefined,
      tasks: undefined,
      workerId: undefined,
      workerVersion: undefined,
      topics: undefined,
    };
    super(
      kafkaConnectorProvider,
      name,
      {
        ...outputs,
        ...args,
        name: args.name ?? name,
        // The cluster may carry credentials and the sensitive config does: both are secret in the state.
        cluster: pulumi.secret(args.cluster),
        sensitiveConfig: pulumi.secret(args.sensitiveConfig ?? {}),
      },
      { ...opts, additionalSecretOutputs: ["cluster"] },
      "cdc-pipeline",
      "KafkaConnector",
    );
  }
}

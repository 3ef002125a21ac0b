// KafkaConnector: a Kafka Connect connector as a declarative, drift-aware resource. Its config is compared
// semantically, its secrets and the cluster's credentials are sent to the worker but compared only through
// a salted hash, its running, paused or stopped state is held, and create and update return only once the
// connector and its tasks are there.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { connectConnectionSchema, connectionSecrets, type ConnectConnection } from "../lib/connect-rest";
import { DESIRED_STATES, type DesiredState, type TaskStatus } from "../lib/connector-api";
import {
  adoptionProblems,
  deployConnector,
  offsetsResetRequested,
  offsetsSource,
  pluginValidationProblems,
  redeployConnector,
  removeConnector,
  stateSupportProblem,
  type Adoption,
  type OffsetsSource,
} from "../lib/connector-lifecycle";
import {
  newSalt,
  outdatedKeys,
  stringifyConfig,
  type ConfigValue,
  type ConnectorConfig,
} from "../lib/connector-config";
import {
  addClusterHash,
  connectorDifferences,
  connectorRecord,
  connectorSecrets,
  readLiveConnector,
  recordDeployed,
  type ResumePoint,
  recordSecrets,
  type RecordOf,
} from "../lib/connector-state";
import { checkInputs, containsUnknown } from "../lib/input-check";
import { installedProvider } from "../lib/installed-provider";
import { versionedProvider } from "../lib/versioned-provider";

const OFFSETS_POLICIES = ["keep", "reset"] as const;
export type OffsetsPolicy = (typeof OFFSETS_POLICIES)[number];

const oneOf = (values: readonly string[]) => ({
  error: (issue: { input?: unknown }) => `must be one of ${values.join(", ")}, got '${String(issue.input)}'`,
});
const NAME_RULE = "must be 1 to 249 characters without leading or trailing blanks";
const timeoutRule = {
  error: (issue: { input?: unknown }) => `must be a number of seconds from 1 to 3600, got '${String(issue.input)}'`,
};
const isMap = (value: unknown): boolean => typeof value === "object" && value !== null && !Array.isArray(value);

const inputsSchema = z
  .object({
    /** The Connect cluster: its URL and, where needed, its credentials. */
    cluster: connectConnectionSchema,
    /** The connector's name on the worker. */
    name: z
      .string(NAME_RULE)
      .refine((name) => name.length > 0 && name.length <= 249 && name.trim() === name, NAME_RULE)
      .refine((name) => !/[\u0000-\u001f/\\]/.test(name), "must not contain control characters, '/' or '\\'"),
    /** The connector config, compared and sent as strings. */
    config: z
      .record(
        z.string(),
        z.union([z.string(), z.number(), z.boolean()], "must be a string, number or boolean"),
        "must be a map of string, number or boolean values",
      )
      .transform((config) => stringifyConfig(config))
      .check((ctx) => {
        if (!ctx.value["connector.class"]) {
          ctx.issues.push({ code: "custom", input: ctx.value, message: "'connector.class' is required" });
        }
        for (const problem of outdatedKeys(ctx.value))
          ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
      }),
    /** Secret config values, merged into the config. */
    sensitiveConfig: z.record(z.string(), z.string("must be a string"), "must be a map of string values").default({}),
    state: z.enum(DESIRED_STATES, oneOf(DESIRED_STATES)).default("running"),
    readyTimeoutSeconds: z.number(timeoutRule).min(1, timeoutRule).max(3600, timeoutRule).default(300),
    restartFailedTasks: z.boolean("must be true or false").default(true),
    offsetsPolicy: z.enum(OFFSETS_POLICIES, oneOf(OFFSETS_POLICIES)).default("keep"),
    ignoreKeys: z.array(z.string("must be a config key"), "must be a list of config keys").default([]),
    validate: z.boolean("must be true or false").default(true),
    /** Setting or changing it resets the committed offsets on update (a Debezium source then snapshots again). */
    offsetsResetToken: z.string("must be a string").optional(),
    /** A position to resume from: its offsets are written on update when its token is new. */
    resumeFrom: z
      .object({
        token: z.string("must be a string").min(1, "must not be empty"),
        offsets: z.array(
          z.object({
            partition: z.record(z.string(), z.unknown()),
            offset: z.record(z.string(), z.unknown()).nullable(),
          }),
          "must be a list of {partition, offset}",
        ),
      })
      .optional(),
    /** A hand-made connector whose offsets the first create takes over, and the keys it must share. */
    adoptFrom: z
      .object({
        name: z.string(NAME_RULE).min(1, NAME_RULE),
        sameKeys: z
          .record(z.string(), z.object({ setBy: z.string(), pluginDefault: z.string().optional() }))
          .default({}),
      })
      .optional(),
  })
  .refine((inputs) => !Object.keys(inputs.sensitiveConfig).some((key) => key in inputs.config), {
    path: ["sensitiveConfig"],
    error: (issue) => {
      const { config, sensitiveConfig } = issue.input as Record<string, object>;
      const both = Object.keys(sensitiveConfig).filter((key) => key in config);
      return `keys in both config and sensitiveConfig: ${both.join(", ")}`;
    },
    // Reported alongside the other properties' problems, as long as both are maps.
    when: ({ value }) => {
      const { config, sensitiveConfig } = value as Record<string, unknown>;
      return isMap(config) && isMap(sensitiveConfig);
    },
  });

/** Inputs as the provider sees them once check has normalised them. */
export type KafkaConnectorInputs = z.infer<typeof inputsSchema> & {
  /**
   * Set by check on a rename or a move to another cluster with offsetsPolicy "keep": the connector whose
   * offsets the new one takes over.
   */
  offsetsFrom?: OffsetsSource;
};

/** The state: settings and connection, the live config without secrets, the secrets' hashes, the status. */
export type KafkaConnectorState = RecordOf<KafkaConnectorInputs>;

const merged = (inputs: KafkaConnectorInputs): ConnectorConfig => ({ ...inputs.config, ...inputs.sensitiveConfig });

/** The implementation, loaded by the serialized shim below from the installed project. */
export const kafkaConnectorProvider = versionedProvider<KafkaConnectorInputs, KafkaConnectorState>(
  "KafkaConnector",
  // 2: the cluster's credentials are compared through clusterHash.
  { version: 2, migrations: { 1: addClusterHash } },
  {
    async check(olds, news) {
      const { inputs, failures } = checkInputs(inputsSchema, news);
      // Validating, or naming the connector to take offsets over from, waits until every value is known;
      // except resumeFrom, which only update reads: a slot this `up` makes is unknown at preview.
      const pending = Object.entries(inputs).some(([key, value]) => key !== "resumeFrom" && containsUnknown(value));
      if (failures.length > 0 || pending) return { inputs, failures };
      const from = offsetsSource(olds, inputs);
      const checked: KafkaConnectorInputs = from ? { ...inputs, offsetsFrom: from } : inputs;
      const secrets = connectorSecrets(checked);
      const stateProblem = await stateSupportProblem(checked.cluster, checked.state, secrets);
      const stateFailures = stateProblem ? [{ property: "state", reason: stateProblem }] : [];
      const adoption = from?.adopted && checked.adoptFrom;
      const adoptionFailures = adoption
        ? (await adoptionProblems(checked.cluster, checked.name, merged(checked), adoption, secrets)).map((reason) => ({
            property: "adoptFrom",
            reason,
          }))
        : [];
      const problemsBeforeValidation = [...stateFailures, ...adoptionFailures];
      if (!checked.validate) return { inputs: checked, failures: problemsBeforeValidation };
      const problems = await pluginValidationProblems(checked.cluster, checked.name, merged(checked), secrets);
      const configFailures = problems.map((reason) => ({ property: "config", reason }));
      return { inputs: checked, failures: [...problemsBeforeValidation, ...configFailures] };
    },

    async diff(_id, olds: KafkaConnectorState, news: KafkaConnectorInputs) {
      const { replaces, connector, credentials } = connectorDifferences(olds, news);
      return { changes: replaces.length > 0 || connector || credentials, replaces };
    },

    async create(inputs: KafkaConnectorInputs) {
      const secrets = connectorSecrets(inputs);
      const reached = await deployConnector({ ...inputs, config: merged(inputs) }, inputs.offsetsFrom, secrets);
      return { id: inputs.name, outs: await recordDeployed(inputs, newSalt(), secrets, reached) };
    },

    async read(id, props?: KafkaConnectorState) {
      if (!props) throw new Error(`KafkaConnector ${id}: cannot read without its recorded cluster`);
      const live = await readLiveConnector(props, props, connectionSecrets(props.cluster));
      // Deleted out of band: report it gone, so that `pulumi up` creates it again.
      if (!live) return {};
      return { id, props: { ...props, ...live } };
    },

    async update(_id, olds: KafkaConnectorState, news: KafkaConnectorInputs) {
      const secrets = connectorSecrets(news);
      if (!connectorDifferences(olds, news).connector) {
        // Only the cluster's credentials changed: nothing to write to the worker. Reading the connector with
        // the new ones proves them, and the state takes them on for refresh and delete.
        const recorded = recordSecrets(news, olds.salt);
        const live = await readLiveConnector(news, recorded, secrets);
        if (live) return { outs: connectorRecord(news, recorded, live) };
      }
      const resetOffsets = offsetsResetRequested(olds.offsetsResetToken, news.offsetsResetToken);
      // A reset starts over from a snapshot: a position to resume from would skip it.
      const resume = !resetOffsets && offsetsResetRequested(olds.resumeFrom?.token, news.resumeFrom?.token);
      const reached = await redeployConnector(
        {
          ...news,
          config: merged(news),
          resetOffsets,
          writeOffsets: resume ? { offsets: news.resumeFrom!.offsets } : undefined,
        },
        secrets,
      );
      return { outs: await recordDeployed(news, olds.salt, secrets, reached) };
    },

    async delete(_id, props: KafkaConnectorState) {
      await removeConnector(props, connectionSecrets(props.cluster));
    },
  },
);

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
  /**
   * Where a source resumes once the position its offsets recorded is gone (a replication slot made again): a
   * new token writes the offsets to the stopped connector on update, before it resumes; create only records
   * it. Default: none.
   */
  readonly resumeFrom?: pulumi.Input<ResumePoint | undefined>;
  /**
   * A hand-made connector on the same cluster whose offsets the first create takes over (so a source does not
   * snapshot again) before deleting it; refused at preview unless it has `sameKeys`' values. Default: none.
   */
  readonly adoptFrom?: pulumi.Input<Adoption>;
}

const kafkaConnectorShim = installedProvider("KafkaConnector");

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
  /** The position the connector last resumed from, when it was given one (resumeFrom). */
  declare readonly resumeFrom: pulumi.Output<ResumePoint | undefined>;
  /** The recorded config (without the sensitive keys). */
  declare readonly config: pulumi.Output<Record<string, string>>;
  /** The provider version that last wrote this resource's state. */
  declare readonly providerVersion: pulumi.Output<number>;

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
      providerVersion: undefined,
    };
    super(
      kafkaConnectorShim,
      name,
      {
        ...outputs,
        ...args,
        name: args.name ?? name,
        // The cluster may carry credentials and the sensitive config does: both are secret in the state,
        // and the recorded cluster is what refresh and delete connect with.
        cluster: pulumi.secret(args.cluster),
        sensitiveConfig: pulumi.secret(args.sensitiveConfig ?? {}),
      },
      { ...opts, additionalSecretOutputs: ["cluster"] },
      "cdc-pipeline",
      "KafkaConnector",
    );
  }
}

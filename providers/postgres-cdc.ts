// PostgresCdc: a PostgreSQL database made ready for the Debezium PostgreSQL connector: wal_level checked,
// a publication for the listed tables, REPLICA IDENTITY FULL where a table has no primary key, optionally
// a logical replication slot (pgoutput), a replication user with the grants Debezium needs, a heartbeat
// table and a signalling table. Refresh reads all of it back, so a table dropped from the publication or a
// dropped slot is drift.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { checkInputs, containsUnknown } from "../lib/input-check";
import { installedProvider } from "../lib/installed-provider";
import {
  applyCdc,
  cdcDrift,
  dropCdc,
  dropOwnTable,
  dropReplicationRole,
  dropReplicationSlot,
  readCdcFacts,
  type PgTable,
  type PostgresCdcFacts,
} from "../lib/logical-replication";
import { pgName, postgresConnectionSchema, withClient, type PostgresConnectionArgs } from "../lib/postgres";
import { versionedProvider } from "../lib/versioned-provider";

const TABLES_REASON = "must list at least one table, each with a schema and a name of 1 to 63 bytes";
const NAME_REASON = "must be a name of 1 to 63 bytes";

const inputsSchema = postgresConnectionSchema
  .extend({
    /** Publication the connector reads (publication.name, with publication.autocreate.mode=disabled). */
    publication: pgName,
    /** Tables to capture. */
    tables: z.array(z.object({ schema: pgName, name: pgName }), TABLES_REASON).min(1, TABLES_REASON),
    /** Logical replication slot to create (slot.name); none when empty. */
    slot: z
      .string("must be a replication slot name")
      .regex(/^[a-z0-9_]{0,63}$/, "a replication slot name may hold only a-z, 0-9 and _ (at most 63)")
      .default(""),
    /** Role to create for the connector (LOGIN REPLICATION, SELECT on the tables); none when empty. */
    replicationUser: z
      .string(NAME_REASON)
      .refine((value) => Buffer.byteLength(value) <= 63, NAME_REASON)
      .default(""),
    /** Its password (secret). */
    replicationPassword: z.string("must be a string (set it as a secret)").default(""),
    /** A table the connector's heartbeat.action.query writes, published with the captured ones. Default: none. */
    heartbeatTable: z.object({ schema: pgName, name: pgName }).optional(),
    /** Debezium's signalling table, published with the captured ones. Default: none. */
    signalTable: z.object({ schema: pgName, name: pgName }).optional(),
  })
  .superRefine((inputs, ctx) => {
    // A user still unknown at preview may turn out to be none: judged once known.
    if (inputs.replicationUser && !containsUnknown(inputs.replicationUser) && !inputs.replicationPassword) {
      ctx.addIssue({ code: "custom", path: ["replicationPassword"], message: "is required with replicationUser" });
    }
  });

export type PostgresCdcInputs = z.infer<typeof inputsSchema>;
export type PostgresCdcState = PostgresCdcInputs &
  PostgresCdcFacts & {
    /** The LSN the slot started at when this resource last made it: a new one means the old position is gone. */
    slotCreatedAt?: string;
  };

/** The inputs with the database's replication setup as it is now. */
async function readReplicationState(inputs: PostgresCdcInputs): Promise<PostgresCdcState> {
  return { ...inputs, ...(await withClient(inputs, (client) => readCdcFacts(client, inputs))) };
}

/** Applies the setup; the slot's start is the one made now, else the one recorded before (`madeAt`). */
async function applyReplicationSetup(inputs: PostgresCdcInputs, madeAt?: string): Promise<PostgresCdcState> {
  const applied = await withClient(inputs, (client) => applyCdc(client, inputs));
  return { ...(await readReplicationState(inputs)), slotCreatedAt: applied.slotCreatedAt ?? madeAt };
}

const CONNECTION_KEYS = ["host", "port", "database"] as const;
/**
 * Changed in place: the logins and the slot. The passwords are stored as secrets and compared as such, not
 * through a hash (read and delete need them, so the state keeps them, encrypted): a new one reaches the state.
 */
const IN_PLACE_KEYS = ["user", "password", "slot", "replicationUser", "replicationPassword"] as const;
/** The pipeline's own tables: one no longer declared is dropped. */
const OWN_TABLE_KEYS = ["heartbeatTable", "signalTable"] as const;
const sameTable = (a?: PgTable, b?: PgTable) => a?.schema === b?.schema && a?.name === b?.name;

/** The implementation, loaded by the serialized shim below from the installed project. */
export const postgresCdcProvider = versionedProvider<PostgresCdcInputs, PostgresCdcState>(
  "PostgresCdc",
  { version: 1, migrations: {} },
  {
    async check(_olds, news) {
      return checkInputs(inputsSchema, news as Record<string, unknown>);
    },
    async diff(_id, olds: PostgresCdcState, news: PostgresCdcInputs) {
      const replaces: string[] = CONNECTION_KEYS.filter((key) => olds[key] !== news[key]);
      if (olds.publication !== news.publication) replaces.push("publication");
      const changes =
        replaces.length > 0 ||
        cdcDrift(olds, news).length > 0 ||
        IN_PLACE_KEYS.some((k) => olds[k] !== news[k]) ||
        OWN_TABLE_KEYS.some((k) => !sameTable(olds[k], news[k]));
      return { changes, replaces, deleteBeforeReplace: true };
    },
    async create(inputs: PostgresCdcInputs) {
      return {
        id: `${inputs.host}:${inputs.port}/${inputs.database}/${inputs.publication}`,
        outs: await applyReplicationSetup(inputs),
      };
    },
    async read(id, props?: PostgresCdcState) {
      if (!props) throw new Error(`PostgresCdc ${id}: cannot read without its recorded connection`);
      return { id, props: await readReplicationState(props) };
    },
    async update(_id, olds: PostgresCdcState, news: PostgresCdcInputs) {
      // A slot or role no longer declared is dropped; the rest converges.
      await withClient(news, async (client) => {
        if (olds.slot && olds.slot !== news.slot) await dropReplicationSlot(client, olds.slot);
        if (olds.replicationUser && olds.replicationUser !== news.replicationUser) {
          await dropReplicationRole(client, olds.replicationUser);
        }
        for (const key of OWN_TABLE_KEYS) {
          const old = olds[key];
          if (old && !sameTable(old, news[key])) await dropOwnTable(client, old);
        }
      });
      return { outs: await applyReplicationSetup(news, olds.slot === news.slot ? olds.slotCreatedAt : undefined) };
    },
    async delete(_id, props: PostgresCdcState) {
      await withClient(props, (client) => dropCdc(client, props));
    },
  },
);

export interface PostgresCdcArgs extends PostgresConnectionArgs {
  /** Publication for the captured tables. */
  readonly publication: pulumi.Input<string>;
  /** Tables to capture. */
  readonly tables: pulumi.Input<pulumi.Input<PgTable>[]>;
  /** Logical replication slot (pgoutput) to create. Default: none (Debezium creates its own). */
  readonly slot?: pulumi.Input<string>;
  /** Role to create for the connector. Default: none. */
  readonly replicationUser?: pulumi.Input<string>;
  /** Its password (secret); required with replicationUser. */
  readonly replicationPassword?: pulumi.Input<string>;
  /** A table the connector's heartbeat.action.query writes, published with the captured ones. Default: none. */
  readonly heartbeatTable?: pulumi.Input<PgTable>;
  /** Debezium's signalling table (signal.data.collection), published with the captured ones. Default: none. */
  readonly signalTable?: pulumi.Input<PgTable>;
}

const postgresCdcShim = installedProvider("PostgresCdc");

export class PostgresCdc extends pulumi.dynamic.Resource {
  declare readonly walLevel: pulumi.Output<string>;
  declare readonly publishedTables: pulumi.Output<string[]>;
  declare readonly slotExists: pulumi.Output<boolean>;
  /**
   * The LSN the slot started at when this resource last made it ('0/1A2B3C4'); it changes when `up` makes a
   * slot dropped by hand again, and the source connector then resumes there. Undefined before it made one.
   */
  declare readonly slotCreatedAt: pulumi.Output<string | undefined>;
  /** The provider version that last wrote this resource's state. */
  declare readonly providerVersion: pulumi.Output<number>;

  constructor(name: string, args: PostgresCdcArgs, opts?: pulumi.CustomResourceOptions) {
    const outputs = {
      walLevel: undefined,
      publishedTables: undefined,
      publicationExists: undefined,
      slotExists: undefined,
      slotCreatedAt: undefined,
      tablesNeedingFullIdentity: undefined,
      replicationUserExists: undefined,
      providerVersion: undefined,
    };
    super(
      postgresCdcShim,
      name,
      {
        ...outputs,
        ...args,
        password: pulumi.secret(args.password),
        replicationPassword: pulumi.secret(args.replicationPassword ?? ""),
      },
      { ...opts, additionalSecretOutputs: ["password", "replicationPassword"] },
      "cdc-pipeline",
      "PostgresCdc",
    );
  }
}

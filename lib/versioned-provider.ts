// Every dynamic resource's state records the provider version that wrote it (`providerVersion`), and the
// installed implementation reads every older shape on purpose: one migration per change of shape, applied
// to the state before diff, read, update and delete see it. A state written before versions were recorded
// is version 1.
import type * as pulumi from "@pulumi/pulumi";
import { containsUnknown } from "./input-check";

export type ProviderState = Record<string, unknown>;

export interface StateVersioning {
  /** The version this code writes. Raise it with every change to the shape of the state. */
  readonly version: number;
  /** migrations[v] turns a version-v state into a version-(v + 1) one; one entry per version below `version`. */
  readonly migrations: Readonly<Record<number, (state: ProviderState) => ProviderState>>;
}

/** The engine's own key for the serialized provider; it is not part of any provider's state shape. */
const PROVIDER_KEY = "__provider";

/** The state in the shape `versioning.version` reads; refuses a state written by a newer version. */
export function migrateState(versioning: StateVersioning, state: ProviderState, what: string): ProviderState {
  let version = typeof state.providerVersion === "number" ? state.providerVersion : 1;
  if (version > versioning.version) {
    throw new Error(
      `${what} was written by provider version ${version}, newer than the installed ${versioning.version}: ` +
        `install the cdc-pipeline version that wrote it (or a later one) before running Pulumi on this stack`,
    );
  }
  let migrated = state;
  for (; version < versioning.version; version++) {
    const migrate = versioning.migrations[version];
    if (!migrate) throw new Error(`${what}: no migration from provider version ${version}`);
    migrated = migrate(migrated);
  }
  return { ...migrated, providerVersion: versioning.version };
}

/**
 * The value without its undefined properties, at any depth: the engine receives a state as a protobuf
 * Struct, which cannot hold undefined (the CLI fails with "Unexpected struct type."). Absent means the same.
 */
export function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, withoutUndefined(v)]),
  );
}

/** A provider with every method the shim forwards (configure is not forwarded). */
export type FullProvider<Inputs, Outputs> = Required<
  Omit<pulumi.dynamic.ResourceProvider<Inputs, Outputs>, "configure">
>;
type UntypedProvider = Required<Omit<pulumi.dynamic.ResourceProvider, "configure">>;

/**
 * `provider` with its state versioned: olds and props are migrated first, and what it returns is stamped
 * with the current version. A state written by another version (or through another shim) is a change, so
 * the next `up` rewrites it; when that is all that changed, update rewrites the state without calling
 * `provider.update`, so upgrading the project makes no call to the managed system.
 */
export function versionedProvider<Inputs, Outputs>(
  typeName: string,
  versioning: StateVersioning,
  typed: FullProvider<Inputs, Outputs>,
): FullProvider<Inputs, Outputs> {
  const provider = typed as UntypedProvider;
  const migrate = (id: string, state: unknown) =>
    migrateState(versioning, state as ProviderState, `${typeName} '${id}'`);
  const stamp = (outs: ProviderState | undefined): ProviderState | undefined =>
    outs === undefined ? outs : (withoutUndefined({ ...outs, providerVersion: versioning.version }) as ProviderState);
  const needsRestamp = (olds: ProviderState, news: ProviderState) =>
    olds.providerVersion !== versioning.version || olds[PROVIDER_KEY] !== news[PROVIDER_KEY];
  type Props = ProviderState | undefined;
  const versioned: UntypedProvider = {
    check: (olds, news) => provider.check(olds, news),
    async diff(id, olds, news) {
      const result = await provider.diff(id, migrate(id, olds), news);
      // A property still unknown at preview (the output of a resource being replaced, say) may or may not
      // change: shown as an update, and diffed again with its value before anything is done.
      const replaces = (result.replaces ?? []).filter((key) => !containsUnknown((news as ProviderState)[key]));
      const pending = replaces.length < (result.replaces ?? []).length;
      const changed = pending || needsRestamp(olds as ProviderState, news as ProviderState);
      return {
        ...result,
        changes: changed ? true : result.changes,
        replaces,
        deleteBeforeReplace: replaces.length > 0 ? result.deleteBeforeReplace : undefined,
      };
    },
    async create(inputs) {
      const result = await provider.create(inputs);
      return { ...result, outs: stamp(result.outs as Props) };
    },
    async read(id, props) {
      const result = await provider.read(id, (props as Props) === undefined ? undefined : migrate(id, props));
      return { ...result, props: stamp(result.props as Props) };
    },
    async update(id, olds, news) {
      const current = migrate(id, olds);
      const { changes } = await provider.diff(id, current, news);
      if (changes === false) {
        const { [PROVIDER_KEY]: _stored, ...state } = current;
        return { outs: withoutUndefined(state) as ProviderState };
      }
      const result = await provider.update(id, current, news);
      return { ...result, outs: stamp(result.outs as Props) };
    },
    delete: (id, props) => provider.delete(id, migrate(id, props)),
  };
  return versioned;
}

// The part of a dynamic provider that Pulumi serializes into each resource's state: a shim of under 2 KB
// that loads the implementation from the installed project at every call (lib/provider-loader.cjs). The
// engine runs the state's copy for refresh and destroy (pulumi/pulumi#6238), so with the whole provider
// serialized a fixed `read` would never reach a user's drift check; with this shim it does.
import type * as pulumi from "@pulumi/pulumi";

type Method = "check" | "diff" | "create" | "read" | "update" | "delete";

/** lib/provider-loader.cjs, as the shim calls it. */
interface ProviderLoader {
  loadProvider(type: string): Record<Method, (...a: unknown[]) => Promise<never>>;
}

/**
 * A provider that forwards every call to the installed implementation of the resource type `type` (such
 * as "KafkaConnector"; lib/provider-loader.cjs maps it to its module). Only the type is recorded in the
 * state, so a provider's file can move without touching any state.
 */
export function installedProvider(type: string): pulumi.dynamic.ResourceProvider {
  // The loader is found in the host's working directory, the program's: the project root (a program in a
  // subdirectory, such as the test programs, carries a lib/provider-loader.cjs that requires the project's).
  // Not from this file: the serialized copy runs outside it. Short: this text is what each state holds.
  const call = (method: Method, a: unknown[]): Promise<never> =>
    (require(process.cwd() + "/lib/provider-loader.cjs") as ProviderLoader).loadProvider(type)[method](...a);
  return {
    check: (...a) => call("check", a),
    diff: (...a) => call("diff", a),
    create: (...a) => call("create", a),
    read: (...a) => call("read", a),
    update: (...a) => call("update", a),
    delete: (...a) => call("delete", a),
  };
}

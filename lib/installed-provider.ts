// The part of a dynamic provider that Pulumi serializes into each resource's state: a shim of under 2 KB
// that loads the implementation from the installed project at every call (lib/provider-loader.cjs). The
// engine runs the state's copy for refresh and destroy (pulumi/pulumi#6238), so with the whole provider
// serialized a fixed `read` would never reach a user's drift check; with this shim it does.
import type * as pulumi from "@pulumi/pulumi";

type Method = "check" | "diff" | "create" | "read" | "update" | "delete";

/** lib/provider-loader.cjs, as the shim calls it. */
interface ProviderLoader {
  loadProvider(modulePath: string, exportName: string): Record<Method, (...a: unknown[]) => Promise<never>>;
}

/**
 * A provider that forwards every call to the export `exportName` of `modulePath` (a path from the project
 * root, such as "providers/kafka-connector.ts"). Both names are recorded in the state: never rename them.
 */
export function installedProvider(modulePath: string, exportName: string): pulumi.dynamic.ResourceProvider {
  // Resolved from the host's working directory, the project root, not from this file: the serialized copy
  // runs outside it. Written inline and short: this text is what each resource's state holds.
  const call = (method: Method, a: unknown[]): Promise<never> =>
    (require(process.cwd() + "/lib/provider-loader.cjs") as ProviderLoader)
      .loadProvider(modulePath, exportName)
      [method](...a);
  return {
    check: (...a) => call("check", a),
    diff: (...a) => call("diff", a),
    create: (...a) => call("create", a),
    read: (...a) => call("read", a),
    update: (...a) => call("update", a),
    delete: (...a) => call("delete", a),
  };
}

// Pulumi runtime mocks for unit tests: records every resource the program registers.
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Names of the resources it depends on (dependsOn and the inputs' origins), as the engine gets them. */
  dependsOn: string[];
}

/** Registrations sent to the mock monitor and not yet answered. */
let inFlight = 0;

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
}

/**
 * Installs mocks (before the program under test is imported) and returns the list they fill.
 * `stackOutputs` answers StackReferences, by referenced stack name.
 */
export async function recordResources(
  stack: string,
  config: Record<string, unknown> = {},
  stackOutputs: Record<string, Record<string, unknown>> = {},
): Promise<Registered[]> {
  const registered: Registered[] = [];
  // The mocks' newResource sees no dependencies: they are taken from the request on its way in.
  const dependencies = new Map<string, string[]>();
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
    ),
    Object.keys(config).filter((key) => key.endsWith("Password")),
  );
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
          dependsOn: (dependencies.get(`${args.type}::${args.name}`) ?? []).map((urn) => urn.split("::").pop()!),
        });
        const state = args.inputs as Record<string, unknown>;
        if (args.type === "pulumi:pulumi:StackReference") {
          return { id: args.name, state: { ...state, outputs: stackOutputs[args.name] ?? {} } };
        }
        return { id: `${args.name}-id`, state };
      },
      call: () => ({}),
    },
    "cdc-pipeline",
    stack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: (...args: unknown[]) => void): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    dependencies.set(`${req.getType()}::${req.getName()}`, req.getDependenciesList());
    inFlight++;
    return register(req, (...args: unknown[]) => {
      inFlight--;
      callback(...args);
    });
  };
  return registered;
}

/**
 * Resolves once the program has registered everything it will: no registration is unanswered and the event
 * loop has turned several times without a new one (children register in callbacks of their parents'
 * outputs, which run once those registrations are answered). Counts turns, not time, so load cannot cut it short.
 */
export async function allRegistered(): Promise<void> {
  for (let quiet = 0; quiet < 20;) {
    const before = inFlight;
    await new Promise((resolve) => setImmediate(resolve));
    quiet = inFlight === 0 && before === 0 ? quiet + 1 : 0;
  }
}

/** Resolves an Output so that assertions on it are awaited (an assertion in .apply() alone never fails a test). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/**
 * The registered resources as the policy pack sees a stack's resources. A bucket's settings name it by its
 * id, which these mocks make `<name>-id`.
 */
export function policyResources(
  stack: string,
  registered: Registered[],
): { type: string; urn: string; props: Record<string, unknown> }[] {
  return registered.map((r) => ({
    type: r.type,
    urn: `urn:pulumi:${stack}::cdc-pipeline::${r.type}::${r.name}`,
    props: r.type === "aws:s3/bucket:Bucket" ? { ...r.inputs, id: `${r.name}-id` } : r.inputs,
  }));
}

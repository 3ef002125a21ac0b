// Pulumi runtime mocks for unit tests: records every resource the program registers.
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Names of the resources it depends on (dependsOn and the inputs' origins), as the engine gets them. */
  dependsOn: string[];
}

/** Registrations (of resources and of components' outputs) sent to the mock monitor and not yet answered. */
let inFlight = 0;

/** What each component registered as its outputs, by "<type>::<name>". */
const componentOutputs = new Map<string, Record<string, unknown>>();

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
}

interface RegisterOutputsRequest {
  getUrn(): string;
  getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}

/** What a resource's provider would report after creating it, from its name and inputs. */
export type Observed = (name: string, inputs: Record<string, unknown>) => Record<string, unknown>;

/**
 * Installs mocks (before the program under test is imported) and returns the list they fill.
 * `stackOutputs` answers StackReferences, by referenced stack name; `observed` adds, by resource type, the
 * outputs a provider would report (otherwise a resource's outputs are its inputs).
 */
export async function recordResources(
  stack: string,
  config: Record<string, unknown> = {},
  stackOutputs: Record<string, Record<string, unknown>> = {},
  observed: Record<string, Observed> = {},
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
        return { id: `${args.name}-id`, state: { ...state, ...observed[args.type]?.(args.name, state) } };
      },
      call: () => ({}),
    },
    "cdc-pipeline",
    stack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: (...args: unknown[]) => void): unknown;
    registerResourceOutputs(req: RegisterOutputsRequest, callback: (...args: unknown[]) => void): unknown;
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
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, callback) => {
    const [, , type, name] = req.getUrn().split("::");
    componentOutputs.set(`${type.split("$").pop()}::${name}`, req.getOutputs()?.toJavaScript() ?? {});
    inFlight++;
    return registerOutputs(req, (...args: unknown[]) => {
      inFlight--;
      callback(...args);
    });
  };
  return registered;
}

/** The outputs a component registered (once allRegistered has resolved), or undefined before it has. */
export function registeredOutputs(type: string, name: string): Record<string, unknown> | undefined {
  return componentOutputs.get(`${type}::${name}`);
}

/** A resource of the tests' own, registered with the mocks: its `value` output is its `value` input. */
class Upstream<T> extends pulumi.CustomResource {
  declare readonly value: pulumi.Output<T>;

  constructor(name: string, value: pulumi.Input<T>) {
    super("test:index:Upstream", name, { value });
  }
}

/**
 * An output of another resource, registered with the mocks, for a component's arguments; given an output, the
 * resource registered depends on that output's resources.
 */
export function outputOf<T>(name: string, value: pulumi.Input<T>): pulumi.Output<T> {
  return new Upstream(name, value).value;
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

// The Docker proof's stack (Pulumi.ci.yaml, deployed by .github/workflows/docker-stack.yml): Pulumi.dev.yaml
// with the backup buckets switched off and nothing else, so what the runner deploys is the primary site.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { checkConsistency, deployUnderMocks, PROJECT_DIR, type StackUnderTest } from "./stack-consistency";

/** A committed stack file as a whole, parsed. */
const stackFile = (stack: string) => {
  const text = readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8");
  return { text, config: (load(text) as { config: Record<string, unknown> }).config };
};

/** The keys Pulumi.ci.yaml's header comment says it changes, with their values there. */
const DOCUMENTED = { "components.backups": false };

/** Each leaf of a stack's config as "namespace:key.path" -> value (lists are leaves). */
function leaves(value: unknown, prefix = ""): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { [prefix]: value };
  return Object.assign(
    {},
    ...Object.entries(value).map(([key, inner]) => leaves(inner, prefix ? `${prefix}.${key}` : key)),
  ) as Record<string, unknown>;
}

let ci: StackUnderTest;
beforeAll(async () => {
  ci = await deployUnderMocks("ci");
}, 60_000);

describe("Pulumi.ci.yaml as committed", () => {
  it("is Pulumi.dev.yaml except exactly the keys its header comment names", () => {
    const dev = leaves(stackFile("dev").config);
    const { text, config } = stackFile("ci");
    const header = text.slice(0, text.indexOf("\nconfig:"));
    const changed = Object.fromEntries(
      Object.entries(DOCUMENTED).map(([key, value]): [string, unknown] => [`cdc-pipeline:${key}`, value]),
    );
    for (const [key, value] of Object.entries(DOCUMENTED)) {
      expect(header, "the header comment documents the change").toContain(`${key}: ${String(value)}`);
      expect(dev[`cdc-pipeline:${key}`], `${key} really differs from dev`).not.toEqual(value);
    }
    expect(leaves(config)).toEqual({ ...dev, ...changed });
  });

  it("wires every address, topic, replication factor, TLS setting and secret to what the program declares", () => {
    checkConsistency(ci);
  });

  it("runs the containers on the runner's Docker engine and declares nothing in AWS", () => {
    const types = ci.registered.map((r) => r.type);
    expect(types.filter((t) => t.startsWith("aws:") || t === "pulumi:providers:aws")).toEqual([]);
    const docker = ci.registered.find((r) => r.type === "pulumi:providers:docker");
    expect(docker?.inputs.host).toBe("unix:///var/run/docker.sock");
    const containers = ci.registered
      .filter((r) => r.type === "docker:index/container:Container")
      .map((r) => r.inputs.name);
    // The workflow runs sqlcmd and psql in these two, by container name.
    expect(containers).toEqual(expect.arrayContaining(["services-postgres", "services-sqlserver"]));
  });
});

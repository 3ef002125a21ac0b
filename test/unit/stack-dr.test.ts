// The committed DR stack (Pulumi.dr.yaml) under mocks: wired like the primary, and deployable while the
// primary region is down: nothing in that region, the primary read only through its stack's outputs.
import { existsSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  checkConsistency,
  committedConfig,
  deployUnderMocks,
  drAddressesOnPrimarySite,
  PROJECT_DIR,
  type StackUnderTest,
} from "./stack-consistency";

const primaryStack = (committedConfig("dr")["cdc-pipeline:failover"] as { primaryStack: string }).primaryStack;
let dr: StackUnderTest;
beforeAll(async () => {
  dr = await deployUnderMocks("dr", { [primaryStack]: { replicaBucket: "cdc-dev-replica-0a1b2c" } });
}, 60_000);

describe("Pulumi.dr.yaml as committed", () => {
  it("wires every address, topic, replication factor, TLS setting and secret to what the program declares", () => {
    checkConsistency(dr);
  });

  it("creates nothing in the primary stack's region, and reads the primary's replica through its stack", () => {
    const primaryRegion = (committedConfig("dev")["cdc-pipeline:aws"] as { primaryRegion: string }).primaryRegion;
    const regions = dr.registered.filter((r) => r.type === "pulumi:providers:aws").map((r) => r.inputs.region);
    expect(regions.length).toBeGreaterThan(0);
    expect(regions).not.toContain(primaryRegion);
    // organization/<project>/<stack> on a DIY backend, <org>/<project>/<stack> on Pulumi Cloud: a stack of this project.
    const [, project, stack] = primaryStack.split("/");
    expect(project).toBe("cdc-pipeline");
    expect(existsSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`))).toBe(true);
    expect(dr.outputs.restoreFromBucket).toBe("cdc-dev-replica-0a1b2c");
  });

  it("reaches none of the primary site's hosts (what `cdc-pipeline drill` checks first)", () => {
    expect(drAddressesOnPrimarySite("dev", "dr")).toEqual([]);
  });

  it("rebuilds the target from a snapshot of the restored source, into emptied tables", () => {
    const source = dr.registered.find((r) => r.name === "pipeline-source")!;
    expect((source.inputs.config as Record<string, string>)["snapshot.mode"]).toBe("initial");
    expect(source.inputs.offsetsResetToken).toBe("failover");
    expect(dr.registered.find((r) => r.name === "pipeline-schema")?.inputs.rebuildToken).toBe("failover");
  });
});

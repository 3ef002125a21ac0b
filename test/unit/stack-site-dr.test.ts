// The two-site drill's DR stack (Pulumi.site-dr.yaml, scripts/sites.sh) under mocks: wired like the primary,
// and deployable with the primary site cut off: none of its addresses is the primary's, and the replica it
// restores from is read through the primary stack's outputs.
import { beforeAll, describe, expect, it } from "vitest";
import {
  checkConsistency,
  committedConfig,
  deployUnderMocks,
  drAddressesOnPrimarySite,
  type StackUnderTest,
} from "./stack-consistency";

const primaryStack = (committedConfig("site-dr")["cdc-pipeline:failover"] as { primaryStack: string }).primaryStack;
const primaryBackups = committedConfig("site-primary")["cdc-pipeline:backups"] as Record<string, string>;
let dr: StackUnderTest;
beforeAll(async () => {
  dr = await deployUnderMocks("site-dr", {
    [primaryStack]: { replicaBucket: primaryBackups.replicaBucket, replicaEndpoint: primaryBackups.endpoint },
  });
}, 60_000);

describe("Pulumi.site-dr.yaml as committed", () => {
  it("wires every address, topic, replication factor and secret to what the stack lists", () => {
    checkConsistency(dr);
  });

  it("takes over from site-primary, reaching none of its site's hosts, restoring from its replica", () => {
    expect(primaryStack).toBe("organization/cdc-pipeline/site-primary");
    expect(drAddressesOnPrimarySite("site-primary", "site-dr")).toEqual([]);
    expect(dr.outputs.restoreFromBucket).toBe("cdc-site-primary-backups-replica");
    // The one-site harness's DR stack shares the primary's hosts: the check names them.
    expect(drAddressesOnPrimarySite("local", "local-dr")).toContain("source.host 127.0.0.1:55432");
  });
});

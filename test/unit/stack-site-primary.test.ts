// The two-site drill's primary stack (Pulumi.site-primary.yaml, scripts/sites.sh) under mocks: its endpoints
// are all listed in the stack file, and the parts agree with each other.
import { describe, it } from "vitest";
import { checkConsistency, deployUnderMocks } from "./stack-consistency";

describe("Pulumi.site-primary.yaml as committed", () => {
  it("wires every address, topic, replication factor and secret to what the stack lists", async () => {
    checkConsistency(await deployUnderMocks("site-primary"));
  }, 60_000);
});

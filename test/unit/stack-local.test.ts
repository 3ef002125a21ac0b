// The committed harness stacks (Pulumi.local.yaml, Pulumi.local-dr.yaml) under mocks: their external
// endpoints are all listed in the stack files, and the parts agree with each other.
import { describe, it } from "vitest";
import { checkConsistency, deployUnderMocks } from "./stack-consistency";

describe("Pulumi.local.yaml as committed", () => {
  it("wires every address, topic, replication factor and secret to what the stack lists", async () => {
    checkConsistency(await deployUnderMocks("local"));
  }, 60_000);
});

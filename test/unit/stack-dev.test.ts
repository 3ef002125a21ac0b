// The committed primary stack (Pulumi.dev.yaml) under mocks: every part wired to what another part declares.
import { beforeAll, describe, expect, it } from "vitest";
import { checkConsistency, committedConfig, deployUnderMocks, type StackUnderTest } from "./stack-consistency";

let dev: StackUnderTest;
beforeAll(async () => {
  dev = await deployUnderMocks("dev");
}, 60_000);

describe("Pulumi.dev.yaml as committed", () => {
  it("wires every address, topic, replication factor, TLS setting and secret to what the program declares", () => {
    checkConsistency(dev);
  });

  it("backs up in its primary region and replicates to the DR stack's region", () => {
    const regions = dev.registered.filter((r) => r.type === "pulumi:providers:aws").map((r) => r.inputs.region);
    const dr = committedConfig("dr")["cdc-pipeline:aws"] as { primaryRegion: string };
    expect(regions).toEqual(["us-east-1", dr.primaryRegion]);
    expect(
      dev.registered.filter((r) => r.type === "aws:s3/bucketReplicationConfig:BucketReplicationConfig"),
    ).toHaveLength(1);
  });
});

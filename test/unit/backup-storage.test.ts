import { beforeAll, describe, expect, it } from "vitest";
import { allRegistered, recordResources, type Registered, registeredOutputs, valueOf } from "./mocks";

let registered: Registered[];
beforeAll(async () => {
  // What AWS would assign: a bucket's name from its prefix, ARNs.
  const arn = (name: string) => ({ arn: `arn:aws:iam::123456789012:role/${name}` });
  registered = await recordResources(
    "dev",
    {},
    {},
    {
      "aws:s3/bucket:Bucket": (_name, inputs) => ({
        bucket: `${String(inputs.bucketPrefix)}0a1b`,
        arn: `arn:aws:s3:::${String(inputs.bucketPrefix)}0a1b`,
      }),
      "aws:iam/role:Role": arn,
    },
  );
  const { BackupStorage } = await import("../../components/backup-storage");
  const storage = new BackupStorage("backups", { primaryRegion: "us-east-1", drRegion: "us-west-2" });
  await Promise.all([storage.bucket.urn, storage.replica!.urn, storage.replicationRole!.urn].map(valueOf));
  // The other children register once the buckets' ids resolve: the component, 2 providers, 2 buckets with
  // 4 settings each, the role, its policy and the replication configuration.
  await allRegistered();
});

const byType = (type: string) => registered.filter((r) => r.type === type);
const one = (name: string) => registered.find((r) => r.name === name)!;

describe("BackupStorage", () => {
  it("puts each bucket in its own region through explicit providers", () => {
    expect(registered).toHaveLength(16);
    expect(byType("pulumi:providers:aws").map((p) => [p.name, p.inputs.region])).toEqual([
      ["backups-primary", "us-east-1"],
      ["backups-dr", "us-west-2"],
    ]);
    expect(byType("aws:s3/bucket:Bucket").map((b) => b.inputs.bucketPrefix)).toEqual([
      "cdc-dev-backup-",
      "cdc-dev-replica-",
    ]);
  });

  it("versions, encrypts and closes both buckets to the public", () => {
    for (const role of ["backup", "replica"]) {
      expect(one(`backups-${role}-versioning`).inputs.versioningConfiguration).toEqual({ status: "Enabled" });
      expect(one(`backups-${role}-encryption`).inputs.rules).toEqual([
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true },
      ]);
      expect(one(`backups-${role}-public-access`).inputs).toMatchObject({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
    }
  });

  it("applies the lifecycle to both: IA at 30 days, Glacier at 90, expiry at 365, noncurrent and multipart cleanup", () => {
    for (const role of ["backup", "replica"]) {
      expect(one(`backups-${role}-lifecycle`).inputs.rules).toEqual([
        {
          id: "backups",
          status: "Enabled",
          filter: { prefix: "" },
          transitions: [
            { days: 30, storageClass: "STANDARD_IA" },
            { days: 90, storageClass: "GLACIER" },
          ],
          expiration: { days: 365 },
          noncurrentVersionExpiration: { noncurrentDays: 30 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ]);
    }
  });

  it("replicates to the replica with RTC 15 minutes, metrics and delete markers, through a narrow role", () => {
    const replication = registered.find((r) => r.type === "aws:s3/bucketReplicationConfig:BucketReplicationConfig")!;
    expect((replication.inputs.rules as unknown[])[0]).toMatchObject({
      status: "Enabled",
      deleteMarkerReplication: { status: "Enabled" },
      destination: {
        replicationTime: { status: "Enabled", time: { minutes: 15 } },
        metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
      },
    });
    const policy = JSON.parse(
      registered.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy")!.inputs.policy as string,
    ) as { Statement: { Action: string[] }[] };
    const actions = policy.Statement.flatMap((s) => s.Action);
    expect(actions).toEqual(
      expect.arrayContaining(["s3:GetReplicationConfiguration", "s3:ReplicateObject", "s3:ReplicateDelete"]),
    );
    expect(actions.some((a) => a === "s3:*" || a === "*" || a.startsWith("s3:Delete") || a === "s3:PutObject")).toBe(
      false,
    );
    const role = registered.find((r) => r.type === "aws:iam/role:Role")!;
    const assume = JSON.parse(role.inputs.assumeRolePolicy as string) as {
      Statement: { Principal: { Service: string } }[];
    };
    expect(assume.Statement[0].Principal.Service).toBe("s3.amazonaws.com");
  });

  it("registers the buckets' names and ARNs and the replication role's ARN", () => {
    expect(registeredOutputs("cdc-pipeline:index:BackupStorage", "backups")).toEqual({
      bucket: "cdc-dev-backup-0a1b",
      bucketArn: "arn:aws:s3:::cdc-dev-backup-0a1b",
      replica: "cdc-dev-replica-0a1b",
      replicaArn: "arn:aws:s3:::cdc-dev-replica-0a1b",
      replicationRoleArn: "arn:aws:iam::123456789012:role/backups-replication",
    });
  });
});

// BackupStorage: the backup bucket in the primary region and its replica in the DR region, each
// versioned, encrypted, closed to the public and under a lifecycle, with replication to the replica that
// AWS guarantees within 15 minutes (Replication Time Control) and reports on (metrics), delete markers
// included, through an IAM role that may do nothing else.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Lifecycle of backup objects, in days. */
export interface BackupLifecycle {
  /** Move to STANDARD_IA after this many days. Default: 30. */
  readonly infrequentAccessAfterDays?: number;
  /** Move to GLACIER after this many days. Default: 90. */
  readonly glacierAfterDays?: number;
  /** Delete after this many days. Default: 365. */
  readonly expireAfterDays?: number;
  /** Delete replaced (noncurrent) versions after this many days. Default: 30. */
  readonly noncurrentExpireAfterDays?: number;
  /** Abort multipart uploads left incomplete after this many days. Default: 7. */
  readonly abortIncompleteUploadAfterDays?: number;
}

export interface BackupStorageArgs {
  /** AWS region of the backup bucket. */
  readonly primaryRegion: string;
  /**
   * AWS region of the replica bucket (the other site). Default: none, no replica: a DR stack deployed while
   * the primary region is down must not create anything there.
   */
  readonly drRegion?: string;
  /** Lifecycle settings. Default: 30 / 90 / 365 / 30 / 7 days. */
  readonly lifecycle?: BackupLifecycle;
}

function lifecycleRules(l: BackupLifecycle = {}): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
  return [
    {
      id: "backups",
      status: "Enabled",
      filter: { prefix: "" },
      transitions: [
        { days: l.infrequentAccessAfterDays ?? 30, storageClass: "STANDARD_IA" },
        { days: l.glacierAfterDays ?? 90, storageClass: "GLACIER" },
      ],
      expiration: { days: l.expireAfterDays ?? 365 },
      noncurrentVersionExpiration: { noncurrentDays: l.noncurrentExpireAfterDays ?? 30 },
      abortIncompleteMultipartUpload: { daysAfterInitiation: l.abortIncompleteUploadAfterDays ?? 7 },
    },
  ];
}

/** A bucket with its hardening applied; replication waits for its versioning. */
interface HardenedBucket {
  readonly bucket: aws.s3.Bucket;
  readonly versioning: aws.s3.BucketVersioning;
}

export class BackupStorage extends pulumi.ComponentResource {
  /** The backup bucket (primary region). */
  readonly bucket: aws.s3.Bucket;
  /** The replica bucket (drRegion), when there is one. */
  readonly replica?: aws.s3.Bucket;
  /** The role S3 assumes to replicate, when there is a replica. */
  readonly replicationRole?: aws.iam.Role;

  constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc-pipeline:index:BackupStorage", name, {}, opts);
    // Explicit providers: which region each bucket lives in is never left to ambient configuration.
    const primary = new aws.Provider(`${name}-primary`, { region: args.primaryRegion as aws.Region }, { parent: this });

    // Bucket names are global: the stack name keeps each stack's apart, a random suffix from Pulumi the rest.
    const stack = pulumi.getStack();
    const hardened = (role: string, provider: aws.Provider): HardenedBucket => {
      const opts = { parent: this, provider };
      const bucket = new aws.s3.Bucket(`${name}-${role}`, { bucketPrefix: `cdc-${stack}-${role}-` }, opts);
      const versioning = new aws.s3.BucketVersioning(
        `${name}-${role}-versioning`,
        { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
        opts,
      );
      new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-${role}-encryption`,
        {
          bucket: bucket.id,
          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
        },
        opts,
      );
      new aws.s3.BucketPublicAccessBlock(
        `${name}-${role}-public-access`,
        {
          bucket: bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        opts,
      );
      // Lifecycle rules on a versioned bucket must follow its versioning.
      new aws.s3.BucketLifecycleConfiguration(
        `${name}-${role}-lifecycle`,
        { bucket: bucket.id, rules: lifecycleRules(args.lifecycle) },
        { ...opts, dependsOn: [versioning] },
      );
      return { bucket, versioning };
    };
    const backup = hardened("backup", primary);
    this.bucket = backup.bucket;
    if (args.drRegion) {
      const dr = new aws.Provider(`${name}-dr`, { region: args.drRegion as aws.Region }, { parent: this });
      const replica = hardened("replica", dr);
      this.replica = replica.bucket;
      this.replicationRole = this.replicate(name, primary, backup, replica);
    }
    // What backup jobs, restores and a DR stack use: the buckets' names and ARNs, and the replication role.
    this.registerOutputs({
      bucket: this.bucket.bucket,
      bucketArn: this.bucket.arn,
      replica: this.replica?.bucket,
      replicaArn: this.replica?.arn,
      replicationRoleArn: this.replicationRole?.arn,
    });
  }

  /** Replication from the backup bucket to the replica, through a role that may do nothing else. */
  private replicate(
    name: string,
    primary: aws.Provider,
    backup: HardenedBucket,
    replica: HardenedBucket,
  ): aws.iam.Role {
    const role = new aws.iam.Role(
      `${name}-replication`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      },
      { parent: this, provider: primary },
    );
    // Least privilege: read the source's configuration and versions, write replicas into the replica only.
    new aws.iam.RolePolicy(
      `${name}-replication`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
              Resource: [backup.bucket.arn],
            },
            {
              Effect: "Allow",
              Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
              Resource: [pulumi.interpolate`${backup.bucket.arn}/*`],
            },
            {
              Effect: "Allow",
              Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
              Resource: [pulumi.interpolate`${replica.bucket.arn}/*`],
            },
          ],
        }),
      },
      { parent: this, provider: primary },
    );

    new aws.s3.BucketReplicationConfig(
      `${name}-replication`,
      {
        bucket: backup.bucket.id,
        role: role.arn,
        rules: [
          {
            id: "to-dr",
            status: "Enabled",
            filter: { prefix: "" },
            deleteMarkerReplication: { status: "Enabled" },
            destination: {
              bucket: replica.bucket.arn,
              storageClass: "STANDARD_IA",
              replicationTime: { status: "Enabled", time: { minutes: 15 } },
              metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
            },
          },
        ],
      },
      // Replication needs versioning on both buckets first.
      { parent: this, provider: primary, dependsOn: [backup.versioning, replica.versioning] },
    );
    return role;
  }
}

// The pipeline's policies, as plain data and functions so they are unit-tested without the CLI.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

type Resource = { type: string; urn?: string; props: Record<string, unknown> };

/** Config keys that hold a password: they belong in a connector's sensitiveConfig. */
const PASSWORD_KEY = /(^|\.)(password|passwd|secret|token)$|\.password\./i;

/** Plaintext passwords in a KafkaConnector's config, by key. */
export function plaintextPasswordKeys(props: Record<string, unknown>): string[] {
  const config = (props.config ?? {}) as Record<string, unknown>;
  return Object.keys(config).filter((key) => PASSWORD_KEY.test(key));
}

/** What each backup bucket lacks, given every resource of the stack. */
export function bucketProblems(resources: Resource[]): string[] {
  const buckets = resources.filter((r) => r.type === "aws:s3/bucket:Bucket");
  const about = (type: string) => resources.filter((r) => r.type === type);
  const problems: string[] = [];
  const forBucket = (type: string, bucketId: string | undefined) =>
    about(type).some((r) => r.props.bucket === bucketId || r.props.bucket === undefined);
  for (const bucket of buckets) {
    // Settings resources name their bucket by its name (the bucket's id in aws v7).
    const id = (bucket.props.bucket ?? bucket.props.id) as string | undefined;
    const name = bucket.urn?.split("::").pop() ?? "bucket";
    const versioned = about("aws:s3/bucketVersioning:BucketVersioning").some(
      (r) =>
        (r.props.bucket === id || r.props.bucket === undefined) &&
        (r.props.versioningConfiguration as { status?: string } | undefined)?.status === "Enabled",
    );
    if (!versioned) problems.push(`${name}: versioning is not enabled`);
    if (!forBucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", id)) {
      problems.push(`${name}: no server-side encryption configuration`);
    }
    const block = about("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").find(
      (r) => r.props.bucket === id || r.props.bucket === undefined,
    );
    const closed =
      block &&
      ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
        (k) => block.props[k] === true,
      );
    if (!closed) problems.push(`${name}: public access is not fully blocked`);
    if (!forBucket("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", id)) {
      problems.push(`${name}: no lifecycle configuration`);
    }
  }
  // Every stack with backups replicates them with Replication Time Control.
  if (buckets.length > 0) {
    const rules = about("aws:s3/bucketReplicationConfig:BucketReplicationConfig").flatMap(
      (r) => (r.props.rules ?? []) as { destination?: { replicationTime?: { status?: string } } }[],
    );
    if (!rules.some((rule) => rule.destination?.replicationTime?.status === "Enabled")) {
      problems.push("no replication rule with Replication Time Control (RTC)");
    }
  }
  return problems;
}

export const pipelinePolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  {
    name: "connector-password-in-sensitive-config",
    description: "A connector's passwords go in sensitiveConfig (secret, never stored in plaintext), not in config.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
      if (!args.type.endsWith(":KafkaConnector")) return;
      for (const key of plaintextPasswordKeys(args.props as Record<string, unknown>)) {
        reportViolation(`config key '${key}' holds a password: move it to sensitiveConfig`);
      }
    },
  },
  {
    name: "backup-buckets-protected-and-replicated",
    description:
      "Backup buckets have versioning, encryption, a public access block, a lifecycle, and replication with RTC.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
      for (const problem of bucketProblems(args.resources)) reportViolation(problem);
    },
  },
];

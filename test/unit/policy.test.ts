// The policy pack's rules on a compliant set of resources and on each way of breaking them.
import { describe, expect, it } from "vitest";
import { bucketProblems, pipelinePolicies, plaintextPasswordKeys } from "../../policy/rules";

const bucket = (name: string) => ({
  type: "aws:s3/bucket:Bucket",
  urn: `urn:pulumi:dev::cdc::aws:s3/bucket:Bucket::${name}`,
  props: { bucket: name },
});
const settings = (name: string) => [
  {
    type: "aws:s3/bucketVersioning:BucketVersioning",
    props: { bucket: name, versioningConfiguration: { status: "Enabled" } },
  },
  {
    type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    props: { bucket: name },
  },
  {
    type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    props: {
      bucket: name,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
  },
  { type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", props: { bucket: name } },
];
const replication = {
  type: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
  props: {
    bucket: "backup",
    rules: [{ destination: { replicationTime: { status: "Enabled", time: { minutes: 15 } } } }],
  },
};
const compliant = [bucket("backup"), ...settings("backup"), bucket("replica"), ...settings("replica"), replication];

describe("policy rules", () => {
  it("pass the project's backup storage", () => {
    expect(bucketProblems(compliant)).toEqual([]);
  });

  it("name each missing protection", () => {
    const without = (type: string, name = "backup") =>
      compliant.filter((r) => !(r.type === type && r.props.bucket === name));
    expect(bucketProblems(without("aws:s3/bucketVersioning:BucketVersioning"))).toEqual([
      "backup: versioning is not enabled",
    ]);
    expect(
      bucketProblems(without("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "replica")),
    ).toEqual(["replica: no lifecycle configuration"]);
    expect(
      bucketProblems(without("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")),
    ).toEqual(["backup: no server-side encryption configuration"]);
    const openBlock = compliant.map((r) =>
      r.type.endsWith("BucketPublicAccessBlock") && r.props.bucket === "backup"
        ? { ...r, props: { ...r.props, blockPublicPolicy: false } }
        : r,
    );
    expect(bucketProblems(openBlock)).toEqual(["backup: public access is not fully blocked"]);
    const noRtc = compliant.map((r) =>
      r === replication ? { ...r, props: { bucket: "backup", rules: [{ destination: {} }] } } : r,
    );
    expect(bucketProblems(noRtc)).toEqual(["no replication rule with Replication Time Control (RTC)"]);
  });

  it("find passwords in a connector's config, and none in sensitiveConfig", () => {
    expect(
      plaintextPasswordKeys({ config: { "database.password": "x", "database.user": "u", "connection.password": "y" } }),
    ).toEqual(["database.password", "connection.password"]);
    expect(
      plaintextPasswordKeys({ config: { "database.user": "u" }, sensitiveConfig: { "database.password": "x" } }),
    ).toEqual([]);
  });

  it("report through the policy pack's interface", () => {
    const connectorPolicy = pipelinePolicies[0] as { validateResource: (a: unknown, r: (m: string) => void) => void };
    const violations: string[] = [];
    connectorPolicy.validateResource(
      { type: "pulumi-nodejs:dynamic/cdc-pipeline:KafkaConnector", props: { config: { "database.password": "x" } } },
      (message) => violations.push(message),
    );
    expect(violations).toEqual(["config key 'database.password' holds a password: move it to sensitiveConfig"]);
  });
});

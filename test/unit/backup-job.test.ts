// A backup job as a scheduled container gets it: what it must hold and what it refuses, before anything runs.
import { describe, expect, it } from "vitest";
import { backupDatabase, parseBackupJob, withoutPasswords } from "../../ops/backup";
import { s3Client } from "../../lib/backup-objects";

const job = {
  stack: "dev",
  source: { engine: "sqlserver", host: "mssql", port: 1433, database: "inventory", user: "cdc_backup" },
  tables: [{ schema: "dbo", name: "customers", columns: [{ name: "id", type: "integer" }], primaryKey: ["id"] }],
  topicPrefix: "inventory",
  connectUrl: "http://connect:8083",
  backups: {
    bucket: "acme-backups",
    keyTemplate: "<kind>/<time>.<ext>",
    files: [],
    schedule: { database: 3600 },
    logRpoMinutes: 15,
  },
};

describe("parseBackupJob", () => {
  it("takes a job with its password from CDC_SOURCE_PASSWORD", () => {
    expect(parseBackupJob(job, { CDC_SOURCE_PASSWORD: "pw" }).sourcePassword).toBe("pw");
  });

  it("names the fields that are wrong, and a missing password", () => {
    expect(() =>
      parseBackupJob({ ...job, source: { ...job.source, port: 0 }, topicPrefix: "" }, { CDC_SOURCE_PASSWORD: "pw" }),
    ).toThrow(/invalid backup job:\n {2}- source\.port .*\n {2}- topicPrefix /);
    expect(() => parseBackupJob(job, {})).toThrow("CDC_SOURCE_PASSWORD is not set: the source database's password");
  });

  it("settles the source's TLS: a SQL Server's on unless set, a PostgreSQL's off", () => {
    const settled = (source: Record<string, unknown>) =>
      parseBackupJob({ ...job, source: { ...job.source, ...source } }, { CDC_SOURCE_PASSWORD: "pw" }).source;
    expect(settled({})).toMatchObject({ encrypt: true, trustServerCertificate: false });
    expect(settled({ trustServerCertificate: true })).toMatchObject({ encrypt: true, trustServerCertificate: true });
    expect(settled({ encrypt: false })).toMatchObject({ encrypt: false, trustServerCertificate: false });
    const postgres = { engine: "postgres", port: 5432 };
    expect(settled(postgres)).toMatchObject({ encrypt: false, trustServerCertificate: false });
    // As `backup job` writes it down: parsed again to the same.
    const parsed = parseBackupJob({ ...job, source: { ...job.source, ...postgres } }, { CDC_SOURCE_PASSWORD: "pw" });
    expect(parseBackupJob(withoutPasswords(parsed), { CDC_SOURCE_PASSWORD: "pw" })).toEqual(parsed);
  });
});

describe("backupDatabase of a SQL Server source", () => {
  it("asks for backups.sqlServer before reaching the server", async () => {
    const parsed = parseBackupJob(job, { CDC_SOURCE_PASSWORD: "pw" });
    // An endpoint nothing answers on: the job must fail before it is used.
    const client = s3Client({ region: "us-east-1", endpoint: "http://127.0.0.1:9" });
    await expect(
      backupDatabase(parsed, { client, bucket: "acme-backups", keyTemplate: "<kind>/<time>.<ext>" }),
    ).rejects.toThrow("backups.sqlServer.serverDirectory is required for a SQL Server source");
    client.destroy();
  });
});

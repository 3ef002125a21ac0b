import { readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { PipelineContainers } from "../../components/pipeline-containers";
import { DEFAULT_KEY_TEMPLATE } from "../../lib/backup-keys";
import { parseBackupJob } from "../../ops/backup";
import { watchSchema } from "../../config";
import { allRegistered, outputOf, recordResources, type Registered, registeredOutputs, valueOf } from "./mocks";

const PASSWORDS = {
  sqlServerPassword: "Sa-Secret-1",
  postgresPassword: "Pg-Secret-1",
  grafanaPassword: "Gf-Secret-1",
};
const TABLES = [
  {
    schema: "dbo",
    name: "customers",
    columns: [
      { name: "id", type: "integer", nullable: false },
      { name: "email", type: "text" },
    ],
    primaryKey: ["id"],
  },
];
const backupJob = (schedule: Record<string, number>) => ({
  stack: "dev",
  source: { database: "inventory", user: "sa" },
  tables: TABLES,
  topicPrefix: "inventory",
  // The stack's own bucket, an output of another resource.
  bucket: outputOf("backup-bucket", "acme-cdc-backups"),
  schedule,
});

let registered: Registered[];
let c: PipelineContainers;
/** With backups scheduled and the bucket's keys given. */
let keyed: PipelineContainers;
/** With backups scheduled and no keys (the Docker host's instance role). */
let role: PipelineContainers;
/** With SQL Server's database and log backups scheduled, and a BACKUP's timeout. */
let sqlBackups: PipelineContainers;
/** With the watch container. */
let watched: PipelineContainers;
/** What the program logged as warnings while the components registered. */
let warnings: string[];
let mod: typeof import("../../components/pipeline-containers");
beforeAll(async () => {
  const warn = vi.spyOn(pulumi.log, "warn");
  // A built image's id, as the Docker provider reports it.
  registered = await recordResources(
    "dev",
    {},
    {},
    { "docker:index/image:Image": () => ({ repoDigest: "sha256:b4c" }) },
  );
  mod = await import("../../components/pipeline-containers");
  // The Docker host and its public name as another resource (a machine) would give them.
  c = new mod.PipelineContainers("services", {
    dockerHost: outputOf("machine-url", "ssh://deploy@docker-host"),
    publicHost: outputOf("machine-name", "docker-host"),
    targetDatabase: "warehouse",
    ...PASSWORDS,
    deadLetterTopic: "inventory.dead-letter",
    rpoHours: 12,
  });
  const scheduled = {
    dockerHost: "unix:///var/run/docker.sock",
    publicHost: "localhost",
    targetDatabase: "warehouse",
    ...PASSWORDS,
    deadLetterTopic: "inventory.dead-letter",
  };
  keyed = new mod.PipelineContainers("keyed", {
    ...scheduled,
    backup: backupJob({ config: 3600, files: 86400 }),
    backupAccessKeyId: "AKIAEXAMPLE",
    backupSecretAccessKey: "Aws-Secret-1",
  });
  role = new mod.PipelineContainers("role", { ...scheduled, backup: backupJob({ config: 3600 }) });
  sqlBackups = new mod.PipelineContainers("sqlbak", {
    ...scheduled,
    backup: { ...backupJob({ database: 86400, log: 900 }), sqlServerTimeoutMinutes: 15 },
  });
  watched = new mod.PipelineContainers("watched", {
    ...scheduled,
    watch: { connectors: ["inventory-source", "inventory-sink"], settings: watchSchema.parse({ intervalSeconds: 5 }) },
  });
  await Promise.all([c, keyed, role, sqlBackups, watched].map((x) => valueOf(x.endpoints)));
  await allRegistered();
  warnings = warn.mock.calls.map(([message]) => message);
  warn.mockRestore();
});

const containers = () => registered.filter((r) => r.type === "docker:index/container:Container");
const containerOf = (component: string, svc: string) => containers().find((r) => r.name === `${component}-${svc}`)!;
const container = (svc: string) => containerOf("services", svc);
const uploadOf = (component: string, svc: string, file: string) =>
  (containerOf(component, svc).inputs.uploads as { file: string; content: string }[]).find((u) => u.file === file)!
    .content;
const upload = (svc: string, file: string) => uploadOf("services", svc, file);

/** A value as the engine gets it: a secret is wrapped in Pulumi's secret signature. */
const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Record<string, unknown>)[specialSigKey] === specialSecretSig;

describe("PipelineContainers", () => {
  it("uses the stack's Docker host and pinned images, on one network where each service has its name", () => {
    expect(registered.find((r) => r.name === "services-docker")?.inputs.host).toBe("ssh://deploy@docker-host");
    const images = registered
      .filter((r) => r.type === "docker:index/remoteImage:RemoteImage" && r.name.startsWith("services-"))
      .map((r) => r.inputs.name as string);
    expect(images).toHaveLength(9);
    for (const image of images) expect(image).toMatch(/:[\w.-]*\d[\w.-]*$/);
    expect(images).toContain("quay.io/debezium/connect:3.6.1.Final");
    expect(container("connect").inputs.networksAdvanced).toEqual([{ name: "services-net", aliases: ["connect"] }]);
  });

  it("runs SQL Server 2022 with its Agent, and waits for every database and broker to be healthy", () => {
    expect(container("sqlserver").inputs.envs).toEqual(
      expect.arrayContaining(["ACCEPT_EULA=Y", "MSSQL_AGENT_ENABLED=true"]),
    );
    for (const svc of ["sqlserver", "postgres", "kafka", "connect", "prometheus", "grafana"]) {
      expect(container(svc).inputs.wait, svc).toBe(true);
      expect((container(svc).inputs.healthcheck as { tests: string[] }).tests[0]).toBe("CMD-SHELL");
    }
    // The healthcheck reads the password from the container's environment, never holds it.
    expect(JSON.stringify(container("sqlserver").inputs.healthcheck)).not.toContain("Sa-Secret-1");
    expect(container("kafka").inputs.envs).toEqual(expect.arrayContaining(["KAFKA_PROCESS_ROLES=broker,controller"]));
  });

  it("gives Kafka an internal listener for the containers and an external one advertised at the public host", () => {
    expect(container("kafka").inputs.envs).toEqual(
      expect.arrayContaining([
        "KAFKA_LISTENERS=INTERNAL://:9092,EXTERNAL://:9094,CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS=INTERNAL://kafka:9092,EXTERNAL://docker-host:9094",
        "KAFKA_INTER_BROKER_LISTENER_NAME=INTERNAL",
        "KAFKA_DEFAULT_REPLICATION_FACTOR=1",
      ]),
    );
    expect(container("kafka").inputs.ports).toEqual([{ external: 9094, internal: 9094 }]);
    expect(container("connect").inputs.envs).toEqual(expect.arrayContaining(["BOOTSTRAP_SERVERS=kafka:9092"]));
    expect(container("postgres").inputs.envs).toEqual(expect.arrayContaining(["POSTGRES_DB=warehouse"]));
  });

  it("gives Prometheus the pipeline's alert rules and Grafana its datasource and dashboard", () => {
    const rules = upload("prometheus", "/etc/prometheus/alerts.yml");
    for (const alert of [
      "ConnectorDown",
      "ConnectorTaskFailed",
      "ReplicationLagHigh",
      "DeadLetterTopicGrowing",
      "BackupOlderThanRpo",
    ]) {
      expect(rules).toContain(`alert: ${alert}`);
    }
    expect(rules).toContain('topic="inventory.dead-letter"');
    expect(rules).toContain(`> ${12 * 3600}`);
    expect(upload("grafana", "/etc/grafana/provisioning/datasources/prometheus.yml")).toContain(
      "url: http://prometheus:9090",
    );
    const dashboard = JSON.parse(upload("grafana", "/var/lib/grafana/dashboards/cdc-pipeline.json")) as {
      panels: unknown[];
    };
    expect(dashboard.panels).toHaveLength(5);
  });

  it("publishes each address as an output that waits for its own container, and registers them all", async () => {
    const at = { sqlServer: "docker-host:1433", postgres: "docker-host:5432", kafka: "docker-host:9094" };
    expect(await valueOf(c.sqlServer)).toEqual({ host: "docker-host", port: 1433 });
    expect(await valueOf(c.postgres)).toEqual({ host: "docker-host", port: 5432 });
    expect(await valueOf(c.connectUrl)).toBe("http://docker-host:8083");
    expect(await valueOf(c.kafkaBootstrapServers)).toBe(at.kafka);
    expect(await valueOf(c.fromWorkers.sqlServer)).toEqual({ host: "sqlserver", port: 1433 });
    expect(await valueOf(c.fromWorkers.postgres)).toEqual({ host: "postgres", port: 5432 });
    expect(await valueOf(c.fromWorkers.kafkaBootstrap)).toBe("kafka:9092");
    expect(await valueOf(c.endpoints)).toMatchObject({ ...at, connect: "http://docker-host:8083" });
    expect(registeredOutputs("cdc-pipeline:index:PipelineContainers", "services")).toMatchObject({
      sqlServer: { host: "docker-host", port: 1433 },
      postgres: { host: "docker-host", port: 5432 },
      connectUrl: "http://docker-host:8083",
      kafkaBootstrapServers: at.kafka,
      fromWorkers: {
        sqlServer: { host: "sqlserver", port: 1433 },
        postgres: { host: "postgres", port: 5432 },
        kafkaBootstrap: "kafka:9092",
      },
      endpoints: at,
    });

    // A resource given one of the addresses waits for that address's container only.
    const before = registered.length;
    await Promise.all([
      valueOf(outputOf("uses-connect", c.connectUrl)),
      valueOf(outputOf("uses-sqlserver", c.fromWorkers.sqlServer)),
    ]);
    const [connect, sqlserver] = registered.slice(before).sort((a, b) => a.name.localeCompare(b.name));
    expect(connect.dependsOn).toEqual(expect.arrayContaining(["services-connect", "machine-name"]));
    expect(connect.dependsOn).not.toContain("services-sqlserver");
    expect(sqlserver.dependsOn).toContain("services-sqlserver");
    expect(sqlserver.dependsOn).not.toContain("services-connect");
  });

  it("keeps each service's data in a named volume of its own, named as before (a new name would be new, empty)", () => {
    const data = {
      sqlserver: "/var/opt/mssql",
      postgres: "/var/lib/postgresql/data",
      kafka: "/var/lib/kafka/data",
      prometheus: "/prometheus",
      grafana: "/var/lib/grafana",
    };
    for (const [svc, containerPath] of Object.entries(data)) {
      expect(container(svc).inputs.volumes, svc).toEqual([{ volumeName: `services-${svc}-data`, containerPath }]);
      const volume = registered.find(
        (r) => r.type === "docker:index/volume:Volume" && r.name === `services-${svc}-data`,
      );
      expect(volume?.inputs.name).toBe(`services-${svc}-data`);
    }
    for (const svc of ["connect", "jmx-exporter", "kafka-exporter", "pushgateway"]) {
      expect(container(svc).inputs.volumes, svc).toEqual([]);
    }
    // Every volume is a service's data: no backups, no volume shared with a backup container.
    expect(
      registered.filter((r) => r.type === "docker:index/volume:Volume" && r.name.startsWith("services-")),
    ).toHaveLength(5);
  });

  it("advertises Kafka's external listener at the public host the machine's output gave", () => {
    expect(container("kafka").dependsOn).toContain("machine-name");
    expect(registered.find((r) => r.name === "services-docker")?.dependsOn).toContain("machine-url");
  });
});

describe("PipelineContainers' watch container", () => {
  it("runs `watch` on the stack's connectors at Connect's network name, from the ops image, with no secret", () => {
    const r = containerOf("watched", "watch");
    expect(r.inputs.command).toEqual([
      ...["node", "ops/bin.cjs", "watch", "--connect-url", "http://connect:8083"],
      ...["--connector", "inventory-source", "inventory-sink"],
      ...["--interval", "5", "--unit", "60", "--max-restarts", "7", "--healthy", "10", "--metrics-port", "9404"],
    ]);
    expect(r.inputs.image).toBe("sha256:b4c");
    expect(registered.find((x) => x.name === "watched-ops-image")?.inputs.imageName).toBe("watched-ops:local");
    expect(r.inputs.envs ?? []).toEqual([]);
    expect(JSON.stringify(r.inputs)).not.toMatch(/Secret-1/);
    expect(r.inputs.restart).toBe("unless-stopped");
    expect(r.dependsOn).toContain("watched-connect");
    expect(registeredOutputs("cdc-pipeline:index:PipelineContainers", "watched")).toMatchObject({
      watchContainer: "watched-watch",
    });
  });

  it("is scraped by the containers' Prometheus, and exists only when asked for", () => {
    expect(uploadOf("watched", "prometheus", "/etc/prometheus/prometheus.yml")).toContain(
      '  - job_name: watch\n    static_configs: [{ targets: ["watch:9404"] }]',
    );
    expect(container("watch")).toBeUndefined();
    expect(registered.find((r) => r.name === "services-ops-image")).toBeUndefined();
    expect(upload("prometheus", "/etc/prometheus/prometheus.yml")).not.toContain("job_name: watch");
  });
});

describe("PipelineContainers' backup container", () => {
  const JOB_FILE = "/etc/cdc-backup/job.json";
  const backup = (component: string) => containerOf(component, "backup");

  it("exists only when the stack schedules backups, with neither image nor container otherwise", async () => {
    expect(container("backup")).toBeUndefined();
    expect(registered.filter((r) => r.type === "docker:index/image:Image").map((r) => r.name)).toEqual(
      expect.arrayContaining(["keyed-ops-image", "role-ops-image"]),
    );
    expect(registered.find((r) => r.name === "services-ops-image")).toBeUndefined();
    expect(c.backupContainer).toBeUndefined();
    expect(await valueOf(keyed.backupContainer!)).toBe("keyed-backup");
    expect(registeredOutputs("cdc-pipeline:index:PipelineContainers", "keyed")).toMatchObject({
      backupContainer: "keyed-backup",
    });
    expect(registeredOutputs("cdc-pipeline:index:PipelineContainers", "services")?.backupContainer).toBeUndefined();
  });

  it("runs `backup schedule` from its job file, from the image built from docker/ops.Dockerfile", () => {
    for (const component of ["keyed", "role"]) {
      const r = backup(component);
      expect(r.inputs.command).toEqual(["node", "ops/bin.cjs", "backup", "schedule", "--job", JOB_FILE]);
      expect(r.inputs.networksAdvanced).toEqual([{ name: `${component}-net`, aliases: ["backup"] }]);
      expect(r.inputs.restart).toBe("unless-stopped");
      expect(r.inputs.init).toBe(true);
      // The built image's id: a rebuild replaces the container.
      expect(r.inputs.image).toBe("sha256:b4c");
    }
    const image = registered.find((r) => r.name === "keyed-ops-image")!;
    expect(image.inputs).toMatchObject({
      imageName: "keyed-ops:local",
      build: { context: ".", dockerfile: "docker/ops.Dockerfile" },
      skipPush: true,
    });
    expect(image.inputs.registry).toBeUndefined();
    // Built by the stack's Docker host.
    expect(registered.find((r) => r.name === "keyed-docker")?.inputs.host).toBe("unix:///var/run/docker.sock");
  });

  it("starts once SQL Server is healthy (and Connect and the Pushgateway are up)", () => {
    const r = backup("keyed");
    expect(r.dependsOn).toEqual(
      expect.arrayContaining(["keyed-sqlserver", "keyed-connect", "keyed-pushgateway", "backup-bucket"]),
    );
    expect(r.dependsOn).not.toContain("services-sqlserver");
    expect(containerOf("keyed", "sqlserver").inputs.wait).toBe(true);
  });

  it("shares a volume with SQL Server, mounted at the same path in both containers", () => {
    expect(mod.SQLSERVER_BACKUP_DIR).toBe("/var/opt/mssql/cdc-backups");
    for (const component of ["keyed", "role", "sqlbak"]) {
      const volume = registered.find(
        (r) => r.type === "docker:index/volume:Volume" && r.name === `${component}-sqlserver-backups`,
      );
      expect(volume?.inputs.name, component).toBe(`${component}-sqlserver-backups`);
      const shared = { volumeName: `${component}-sqlserver-backups`, containerPath: "/var/opt/mssql/cdc-backups" };
      expect(containerOf(component, "sqlserver").inputs.volumes, component).toEqual([
        { volumeName: `${component}-sqlserver-data`, containerPath: "/var/opt/mssql" },
        shared,
      ]);
      expect(backup(component).inputs.volumes, component).toEqual([shared]);
    }
    // No backup container, no shared volume: SQL Server keeps its data volume alone.
    expect(registered.find((r) => r.name === "services-sqlserver-backups")).toBeUndefined();
    expect(container("sqlserver").inputs.volumes).toEqual([
      { volumeName: "services-sqlserver-data", containerPath: "/var/opt/mssql" },
    ]);
  });

  it("runs as SQL Server's user (10001:0), which owns the files BACKUP writes into the shared volume", () => {
    expect(mod.BACKUP_USER).toBe("10001:0");
    for (const component of ["keyed", "role", "sqlbak"])
      expect(backup(component).inputs.user, component).toBe("10001:0");
    // Every other container runs as its image's user.
    for (const svc of ["sqlserver", "postgres", "kafka", "connect", "grafana"]) {
      expect(containerOf("keyed", svc).inputs.user, svc).toBeUndefined();
    }
  });

  it("has the source password in its environment as a secret, and no other secret than the bucket's keys", () => {
    // The engine gets the environment as one property: secret as a whole when any of its entries is.
    const envs = (component: string) => backup(component).inputs.envs;
    // The instance role's case: the source password alone, a secret although it was given as plain text here.
    expect(isSecret(envs("role"))).toBe(true);
    expect((envs("role") as { value: unknown }).value).toEqual(["CDC_SOURCE_PASSWORD=Sa-Secret-1"]);
    // The same password in SQL Server's environment stays as it was given: the backup container's is made secret.
    expect(isSecret(containerOf("role", "sqlserver").inputs.envs)).toBe(false);
    expect(isSecret(envs("keyed"))).toBe(true);
    expect((envs("keyed") as { value: unknown }).value).toEqual([
      "CDC_SOURCE_PASSWORD=Sa-Secret-1",
      "AWS_ACCESS_KEY_ID=AKIAEXAMPLE",
      "AWS_SECRET_ACCESS_KEY=Aws-Secret-1",
    ]);
    // Neither the other containers' passwords nor a Pulumi passphrase, anywhere in its definition.
    for (const component of ["keyed", "role"]) {
      const all = JSON.stringify(backup(component).inputs);
      for (const other of ["Pg-Secret-1", "Gf-Secret-1", "PULUMI_CONFIG_PASSPHRASE"]) expect(all).not.toContain(other);
    }
    // The job file is no secret: it holds none.
    expect(isSecret(backup("keyed").inputs.uploads)).toBe(false);
  });

  it("uploads a job file that `backup schedule --job` parses, naming the containers' internal addresses", () => {
    const content = uploadOf("keyed", "backup", JOB_FILE);
    for (const secret of Object.values(PASSWORDS)) expect(content).not.toContain(secret);
    expect(content).not.toContain("Aws-Secret-1");
    const json: unknown = JSON.parse(content);
    expect(() => parseBackupJob(json, {})).toThrow(/CDC_SOURCE_PASSWORD/);
    const job = parseBackupJob(json, { CDC_SOURCE_PASSWORD: "Sa-Secret-1" });
    expect(job).toMatchObject({
      stack: "dev",
      source: {
        engine: "sqlserver",
        host: "sqlserver",
        port: 1433,
        database: "inventory",
        user: "sa",
        encrypt: true,
        trustServerCertificate: true,
      },
      tables: TABLES,
      topicPrefix: "inventory",
      connectUrl: "http://connect:8083",
      backups: {
        bucket: "acme-cdc-backups",
        keyTemplate: DEFAULT_KEY_TEMPLATE,
        files: [],
        pushgateway: "http://pushgateway:9091",
        schedule: { config: 3600, files: 86400 },
        // The shared volume, where SQL Server writes and this container reads, at one path in both.
        sqlServer: {
          serverDirectory: "/var/opt/mssql/cdc-backups",
          localDirectory: "/var/opt/mssql/cdc-backups",
          timeoutMinutes: 60,
        },
      },
      sourcePassword: "Sa-Secret-1",
    });
    // Exactly these settings (the schema's defaults aside): no endpoint (AWS), no KMS key, no replica.
    expect(Object.keys(job.source).sort()).toEqual(
      ["database", "encrypt", "engine", "host", "port", "trustServerCertificate", "user"].sort(),
    );
    for (const key of ["endpoint", "kmsKeyId", "replicaBucket"]) expect(job.backups).not.toHaveProperty(key);
  });

  it("schedules SQL Server's database and log backups through the shared volume, with the BACKUP's timeout", () => {
    const job = parseBackupJob(JSON.parse(uploadOf("sqlbak", "backup", JOB_FILE)), { CDC_SOURCE_PASSWORD: "x" });
    expect(job.backups.schedule).toEqual({ database: 86400, log: 900 });
    expect(job.backups.sqlServer).toEqual({
      serverDirectory: mod.SQLSERVER_BACKUP_DIR,
      localDirectory: mod.SQLSERVER_BACKUP_DIR,
      timeoutMinutes: 15,
    });
    // No warning that the database kind cannot run: it can.
    expect(warnings).toEqual([]);
  });

  it("takes the bucket's endpoint, key template, files and Pushgateway when given", () => {
    const json = mod.containerBackupJob({
      ...backupJob({ database: 86400 }),
      bucket: "acme-cdc-backups",
      endpoint: "http://s3.internal:9000",
      keyTemplate: "<yyyy>/<mm>/<dd>/<kind>/<stack>-<time>.<ext>",
      files: ["/etc/kafka-connect/connect.properties"],
      pushgateway: "http://metrics.internal:9091",
      source: { database: "inventory", user: "sa", encrypt: false },
    });
    const job = parseBackupJob(json, { CDC_SOURCE_PASSWORD: "x" });
    expect(job.backups).toMatchObject({
      endpoint: "http://s3.internal:9000",
      keyTemplate: "<yyyy>/<mm>/<dd>/<kind>/<stack>-<time>.<ext>",
      files: ["/etc/kafka-connect/connect.properties"],
      pushgateway: "http://metrics.internal:9091",
      schedule: { database: 86400 },
    });
    expect(job.source).toMatchObject({ host: "sqlserver", port: 1433, encrypt: false });
  });

  it("takes SQL Server's database and log kinds, and refuses a schedule it cannot run: none, or base", () => {
    const job = (schedule: Record<string, number>) => ({ ...backupJob(schedule), bucket: "acme-cdc-backups" });
    const parsed = (schedule: Record<string, number>) =>
      parseBackupJob(mod.containerBackupJob(job(schedule)), { CDC_SOURCE_PASSWORD: "x" }).backups;
    expect(parsed({ database: 86400 })).toMatchObject({
      schedule: { database: 86400 },
      sqlServer: { serverDirectory: mod.SQLSERVER_BACKUP_DIR },
    });
    expect(parsed({ config: 60, log: 60 }).schedule).toEqual({ config: 60, log: 60 });
    expect(() => mod.containerBackupJob(job({}))).toThrow(/names no kind/);
    // pg_basebackup's, named alone (the log beside it is SQL Server's as well).
    expect(() => mod.containerBackupJob(job({ base: 60 }))).toThrow(/^backups\.schedule\.base: .*PostgreSQL/);
    expect(() => mod.containerBackupJob(job({ database: 60, base: 60, log: 60 }))).toThrow(
      /^backups\.schedule\.base: (?!.*schedule\.log).*point-in-time base is the database kind/,
    );
  });

  it("refuses half of the bucket's credentials", () => {
    expect(
      () =>
        new mod.PipelineContainers("half", {
          dockerHost: "unix:///var/run/docker.sock",
          publicHost: "localhost",
          targetDatabase: "warehouse",
          ...PASSWORDS,
          deadLetterTopic: "inventory.dead-letter",
          backup: backupJob({ config: 60 }),
          backupAccessKeyId: "AKIAEXAMPLE",
        }),
    ).toThrow(/give both or neither/);
  });
});

describe("docker/ops.Dockerfile", () => {
  const root = path.resolve(__dirname, "../..");
  const dockerfile = readFileSync(path.join(root, "docker/ops.Dockerfile"), "utf8");
  const ignore = readFileSync(path.join(root, ".dockerignore"), "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"));

  it("is Node.js at the project's pinned version, with the PostgreSQL client and tar, running the schedule", () => {
    const node = /^NODE_VERSION=(\S+)$/m.exec(readFileSync(path.join(root, "scripts/lib/common.sh"), "utf8"))![1];
    expect(dockerfile.match(/^FROM .*$/gm)).toEqual([`FROM node:${node}-bookworm-slim`]);
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends postgresql-client tar/);
    expect(dockerfile).toMatch(/npm ci --omit=dev /);
    // The build starts the CLI once: a module it cannot load fails the build.
    expect(dockerfile).toContain("RUN node ops/bin.cjs --help");
    expect(dockerfile).toContain(
      'CMD ["node", "ops/bin.cjs", "backup", "schedule", "--job", "/etc/cdc-backup/job.json"]',
    );
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it("creates the shared backup directory as the backup container's user: the volume takes its owner and mode", async () => {
    const { BACKUP_USER, SQLSERVER_BACKUP_DIR } = await import("../../components/pipeline-containers");
    const [uid, gid] = BACKUP_USER.split(":");
    // Owner and group rwx: SQL Server (uid 10001, group 0) writes, the backup container reads and deletes.
    expect(dockerfile).toContain(`install -d -o ${uid} -g ${gid} -m 0770 ${SQLSERVER_BACKUP_DIR}`);
  });

  it("leaves the app readable by any user: root's files, as readable as they are in the build context", () => {
    // No COPY gives the files to a user (or a mode) of its own: the container runs as 10001, not as the image's user.
    expect(dockerfile).not.toMatch(/^COPY --(chown|chmod)/m);
    for (const file of [
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "config.ts",
      "ops/bin.cjs",
      "ops/cli.ts",
    ]) {
      expect(statSync(path.join(root, file)).mode & 0o004, `${file} is world-readable`).toBe(0o004);
    }
  });

  it("keeps ts-node and typescript (devDependencies ops/bin.cjs needs) under npm ci --omit=dev", () => {
    // npm ci --omit=dev leaves out exactly the lockfile's packages flagged dev. These two are @pulumi/pulumi's
    // optional peers, which the root's devDependencies satisfy: not flagged, and neither is any of their own.
    const lock = (
      JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
        packages: Record<string, { version?: string; dev?: boolean; dependencies?: Record<string, string> }>;
      }
    ).packages;
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    /** Where node would find `name` from the package at `from` (its own node_modules, then its parents'). */
    const resolve = (from: string, name: string): string => {
      for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf("/node_modules/")))) {
        const at = `${dir ? `${dir}/` : ""}node_modules/${name}`;
        if (lock[at]) return at;
        if (!dir) throw new Error(`${name} (from ${from}) is not in package-lock.json`);
      }
    };
    const flagged: string[] = [];
    const seen = new Set<string>();
    const visit = (at: string) => {
      if (seen.has(at)) return;
      seen.add(at);
      if (lock[at].dev) flagged.push(at);
      for (const dep of Object.keys(lock[at].dependencies ?? {})) visit(resolve(at, dep));
    };
    for (const name of ["ts-node", "typescript"]) {
      expect(lock[`node_modules/${name}`].version).toBe(pkg.devDependencies[name]);
      visit(`node_modules/${name}`);
    }
    expect(flagged, "flagged dev: docker/ops.Dockerfile's npm ci --omit=dev would leave them out").toEqual([]);
  });

  it("copies every project file the CLI loads, and the build context lets in nothing else", () => {
    // The project's files ops/bin.cjs reaches by relative require/import (type-only imports too: a superset).
    const loaded = new Set<string>();
    const visit = (file: string) => {
      const rel = path.relative(root, file);
      if (loaded.has(rel)) return;
      loaded.add(rel);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
        const base = path.resolve(path.dirname(file), m[1]);
        const found = [base, `${base}.ts`, `${base}.cjs`, path.join(base, "index.ts")].find((f) => {
          try {
            return readFileSync(f) !== undefined;
          } catch {
            return false;
          }
        });
        expect(found, `${rel} imports ${m[1]}`).toBeDefined();
        visit(found!);
      }
    };
    visit(path.join(root, "ops/bin.cjs"));
    expect(loaded).toContain("ops/backup-schedule.ts");
    const copied = [...dockerfile.matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1].split(" "));
    expect(ignore[0]).toBe("*");
    const allowed = ignore.slice(1).map((l) => l.replace(/^!/, ""));
    for (const file of [...loaded, "package.json", "package-lock.json", "tsconfig.json"]) {
      const top = file.split("/")[0];
      expect(copied, file).toContain(top);
      expect(allowed, file).toContain(top);
    }
    expect(allowed.sort()).toEqual([...copied, "docker/ops.Dockerfile"].sort());
  });
});

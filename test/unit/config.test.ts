import { describe, expect, it } from "vitest";
import { parseStackSettings, SECRET_KEYS, StackConfigError } from "../../config";

const ALL_SECRETS = new Set<string>(SECRET_KEYS);

const valid = {
  kafkaConnect: { url: "http://127.0.0.1:58083", bootstrapServers: "127.0.0.1:59092" },
  pipeline: { topicPrefix: "local" },
  tables: [{ schema: "inventory", name: "customers", columns: [{ name: "id", type: "integer" }], primaryKey: ["id"] }],
  source: { engine: "postgres", host: "127.0.0.1", port: 55432, database: "cdc_source", user: "postgres" },
  target: { host: "127.0.0.1", port: 55433, database: "cdc_target", user: "postgres" },
};

/** A SQL Server stack whose services are the containers: no address of its own. */
const containerStack = {
  components: { containers: true },
  docker: { host: "ssh://deploy@dr-docker-host" },
  kafkaConnect: {},
  pipeline: { topicPrefix: "inventory" },
  tables: valid.tables,
  source: { engine: "sqlserver", database: "inventory", user: "sa" },
  target: { database: "warehouse", user: "postgres" },
};

/** The problems parseStackSettings reports for raw config, or a failure when it accepts it. */
function problemsOf(raw: Record<string, unknown>, secrets: Set<string> = ALL_SECRETS): string[] {
  try {
    parseStackSettings(raw, "dev", secrets);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    return (err as StackConfigError).problems;
  }
  throw new Error("expected the configuration to be rejected");
}

describe("parseStackSettings: backups", () => {
  it("takes an existing bucket for a stack without components.backups, with the defaults filled in", () => {
    const settings = parseStackSettings({ ...valid, backups: { bucket: "cdc-local-backups" } }, "local", ALL_SECRETS);
    expect(settings.backups).toEqual({
      bucket: "cdc-local-backups",
      keyTemplate: "<kind>/<yyyy>/<mm>/<dd>/<stack>-<time>.<ext>",
      files: [],
      schedule: {},
      logRpoMinutes: 15,
    });
  });

  it("names a key template without a time field, a relative file, and a bucket beside the stack's own", () => {
    expect(
      problemsOf({
        ...valid,
        components: { backups: true },
        aws: { primaryRegion: "us-east-1" },
        backups: { bucket: "mine", keyTemplate: "<kind>/<stack>.<ext>", files: ["etc/connect"] },
      }),
    ).toEqual([
      expect.stringMatching(/^cdc-pipeline:backups\.keyTemplate must contain a time field: <time>, or all of/),
      expect.stringMatching(/^cdc-pipeline:backups\.files\[0\] an absolute path/),
      expect.stringMatching(
        /^cdc-pipeline:backups\.bucket is the stack's own bucket when components\.backups is true: remove it/,
      ),
    ]);
  });
});

describe("parseStackSettings", () => {
  it("accepts a complete configuration and fills in defaults", () => {
    const settings = parseStackSettings(valid, "local", ALL_SECRETS);
    expect(settings.components).toEqual({ containers: false, backups: false });
    expect(settings.target.schema).toBe("public");
    expect(settings.source.engine).toBe("postgres");
  });

  it("names a missing key, says it is missing, and gives the command that sets it", () => {
    const { source: _omitted, ...withoutSource } = valid;
    const problems = problemsOf(withoutSource);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^cdc-pipeline:source is missing/);
    expect(problems[0]).toContain('pulumi config set --stack dev --path source \'{"engine":');
  });

  it("names a nested invalid value and what is allowed", () => {
    const problems = problemsOf({ ...valid, target: { ...valid.target, port: 70000 } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^cdc-pipeline:target\.port .*65535/);
    expect(problems[0]).toContain("pulumi config set --stack dev --path 'target.port' <value>");
  });

  it("takes the watch settings with Strimzi's defaults, and names a bad one", () => {
    const settings = parseStackSettings(valid, "dev", ALL_SECRETS);
    expect(settings.watch).toEqual({
      intervalSeconds: 30,
      unitSeconds: 60,
      maxRestarts: 7,
      healthyUnits: 10,
      metricsPort: 9404,
      container: true,
    });
    const problems = problemsOf({ ...valid, watch: { maxRestarts: 0, metricsPort: 0, every: 5 } });
    expect(problems).toEqual([
      expect.stringMatching(/^cdc-pipeline:watch\.maxRestarts .*>=1/),
      expect.stringMatching(/^cdc-pipeline:watch\.metricsPort .*>=1/),
      expect.stringMatching(/^cdc-pipeline:watch Unrecognized key: "every"/),
    ]);
  });

  it("lists the allowed source engines", () => {
    const [problem] = problemsOf({ ...valid, source: { ...valid.source, engine: "oracle" } });
    expect(problem).toMatch(/^cdc-pipeline:source\.engine .*"sqlserver".*"postgres"/);
  });

  it("takes a rebuild token as text, refusing an empty one", () => {
    const pipeline = { ...valid.pipeline, rebuild: "restore-2026-11-24" };
    expect(parseStackSettings({ ...valid, pipeline }, "dr", ALL_SECRETS).pipeline.rebuild).toBe("restore-2026-11-24");
    const [problem] = problemsOf({ ...valid, pipeline: { ...valid.pipeline, rebuild: "" } });
    expect(problem).toMatch(
      /^cdc-pipeline:pipeline\.rebuild .*pulumi config set --stack dev --path 'pipeline\.rebuild' <value>/,
    );
  });

  it("rejects a Connect URL that is not http(s)", () => {
    const [problem] = problemsOf({ ...valid, kafkaConnect: { ...valid.kafkaConnect, url: "ftp://connect:8083" } });
    expect(problem).toMatch(/^cdc-pipeline:kafkaConnect\.url /);
  });

  it("reports a misspelt key with the command that removes it", () => {
    const [problem] = problemsOf({ ...valid, target: { ...valid.target, hostname: "x" } });
    expect(problem).toContain('"hostname"');
    expect(problem).toContain("pulumi config rm --stack dev --path target.hostname");
  });

  it("requires the docker section when containers are switched on, and aws when backups are", () => {
    const problems = problemsOf({
      ...containerStack,
      docker: undefined,
      components: { containers: true, backups: true },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^cdc-pipeline:docker is required when components\.containers is true/),
      expect.stringMatching(/^cdc-pipeline:aws is required when components\.backups is true/),
    ]);
  });

  it("refuses a DR region equal to the primary region", () => {
    const [problem] = problemsOf({ ...valid, aws: { primaryRegion: "us-east-1", drRegion: "us-east-1" } });
    expect(problem).toMatch(/^cdc-pipeline:aws\.drRegion must differ from primaryRegion/);
  });

  it("reports every problem at once, missing secrets included, with the --secret command", () => {
    const problems = problemsOf({ ...valid, target: { ...valid.target, port: "x" } }, new Set());
    expect(problems).toHaveLength(3);
    expect(problems).toContainEqual(expect.stringMatching(/^cdc-pipeline:target\.port /));
    for (const key of ["sourcePassword", "targetPassword"]) {
      expect(problems).toContainEqual(
        `cdc-pipeline:${key} is missing: a secret password (fix: pulumi config set --stack dev --secret ${key})`,
      );
    }
  });

  it("asks for the Grafana password too when the containers are switched on", () => {
    const withContainers = containerStack;
    expect(problemsOf(withContainers, new Set(["sourcePassword", "targetPassword"]))).toEqual([
      "cdc-pipeline:grafanaPassword is missing: a secret password (fix: pulumi config set --stack dev --secret grafanaPassword)",
    ]);
    expect(parseStackSettings(withContainers, "dev", ALL_SECRETS).components.containers).toBe(true);
  });

  it("asks for the connector's password when a connector login is declared", () => {
    const withLogin = { ...valid, source: { ...valid.source, connectorUser: "cdc_connector" } };
    expect(problemsOf(withLogin, new Set(["sourcePassword", "targetPassword"]))).toEqual([
      "cdc-pipeline:connectorPassword is missing: a secret password (fix: pulumi config set --stack dev --secret connectorPassword)",
    ]);
    expect(parseStackSettings(withLogin, "dev", ALL_SECRETS).source.connectorUser).toBe("cdc_connector");
    expect(problemsOf({ ...valid, source: { ...valid.source, connectorUser: "" } })).toEqual([
      expect.stringMatching(/^cdc-pipeline:source\.connectorUser /),
    ]);
  });

  it("names a problem inside a table with the path syntax of pulumi config set --path", () => {
    const tables = [
      { ...valid.tables[0], columns: [{ name: "id", type: "int); DROP TABLE x" }], primaryKey: ["nope"] },
    ];
    const problems = problemsOf({ ...valid, tables });
    expect(problems).toEqual([
      expect.stringMatching(
        /^cdc-pipeline:tables\[0\]\.columns\[0\]\.type must be a PostgreSQL type .*--path 'tables\[0\]\.columns\[0\]\.type'/,
      ),
      expect.stringMatching(/^cdc-pipeline:tables\[0\]\.primaryKey must name columns of the table/),
    ]);
  });

  it("reports a key whose text is not JSON as invalid rather than crashing", () => {
    const [problem] = problemsOf({ ...valid, kafkaConnect: "http://connect:8083" });
    expect(problem).toMatch(/^cdc-pipeline:kafkaConnect .*object/);
  });

  it("with containers, settles each address: published ports for the program, network names for the connectors", () => {
    const settings = parseStackSettings(containerStack, "dr", ALL_SECRETS);
    expect(settings.source).toMatchObject({
      host: "dr-docker-host",
      port: 1433,
      encrypt: true,
      trustServerCertificate: true,
    });
    expect(settings.target).toMatchObject({ host: "dr-docker-host", port: 5432, database: "warehouse" });
    expect(settings.kafkaConnect).toMatchObject({
      url: "http://dr-docker-host:8083",
      bootstrapServers: "dr-docker-host:9094",
    });
    expect(settings.fromWorkers).toEqual({
      source: { host: "sqlserver", port: 1433 },
      target: { host: "postgres", port: 5432 },
      kafkaBootstrap: "kafka:9092",
    });
    expect(settings.pipeline.replicationFactor).toBe(1);
    const local = { ...containerStack, docker: { host: "unix:///var/run/docker.sock" } };
    expect(parseStackSettings(local, "dev", ALL_SECRETS).source.host).toBe("localhost");
    const named = { ...containerStack, docker: { host: "unix:///var/run/docker.sock", publicHost: "docker.internal" } };
    expect(parseStackSettings(named, "dev", ALL_SECRETS).kafkaConnect.url).toBe("http://docker.internal:8083");
  });

  it("without containers, the connectors use the external endpoints the stack names; the brokers choose the DLQ's replication", () => {
    const settings = parseStackSettings(valid, "local", ALL_SECRETS);
    expect(settings.fromWorkers).toEqual({
      source: { host: "127.0.0.1", port: 55432 },
      target: { host: "127.0.0.1", port: 55433 },
      kafkaBootstrap: "127.0.0.1:59092",
    });
    expect(settings.pipeline.replicationFactor).toBe(-1);
    expect(settings.source).toMatchObject({ encrypt: false, trustServerCertificate: false });
  });

  it("refuses an address set beside the containers, and a missing one without them, naming the key", () => {
    const withHost = { ...containerStack, source: { ...containerStack.source, host: "localhost", port: 1433 } };
    expect(problemsOf(withHost)).toEqual([
      expect.stringMatching(
        /^cdc-pipeline:source\.host is the containers' address when components\.containers is true: remove it/,
      ),
      expect.stringMatching(/^cdc-pipeline:source\.port is the containers' address/),
    ]);
    const { url: _url, ...noUrl } = valid.kafkaConnect;
    expect(problemsOf({ ...valid, kafkaConnect: noUrl })).toEqual([
      expect.stringMatching(/^cdc-pipeline:kafkaConnect\.url is required when components\.containers is false/),
    ]);
  });

  it("refuses a dead-letter replication factor above the containers' brokers, and a PostgreSQL source with containers", () => {
    const tooMany = { ...containerStack, pipeline: { topicPrefix: "inventory", replicationFactor: 3 } };
    expect(problemsOf(tooMany)).toEqual([
      expect.stringMatching(
        /^cdc-pipeline:pipeline\.replicationFactor must be at most 1: the containers run 1 Kafka broker/,
      ),
    ]);
    const postgres = { ...containerStack, source: { ...containerStack.source, engine: "postgres" } };
    expect(problemsOf(postgres)).toEqual([expect.stringMatching(/^cdc-pipeline:source\.engine must be "sqlserver"/)]);
  });

  it("takes SQL Server TLS from one setting, refusing contradictions and TLS keys on a PostgreSQL source", () => {
    const tls = (source: Record<string, unknown>) => ({
      ...containerStack,
      source: { ...containerStack.source, ...source },
    });
    expect(parseStackSettings(tls({ trustServerCertificate: false }), "dev", ALL_SECRETS).source).toMatchObject({
      encrypt: true,
      trustServerCertificate: false,
    });
    expect(parseStackSettings(tls({ encrypt: false }), "dev", ALL_SECRETS).source).toMatchObject({
      encrypt: false,
      trustServerCertificate: false,
    });
    expect(problemsOf(tls({ encrypt: false, trustServerCertificate: true }))).toEqual([
      expect.stringMatching(/^cdc-pipeline:source\.trustServerCertificate contradicts source\.encrypt false/),
    ]);
    expect(problemsOf({ ...valid, source: { ...valid.source, encrypt: true } })).toEqual([
      expect.stringMatching(/^cdc-pipeline:source\.encrypt applies only to a SQL Server source/),
    ]);
  });

  it("takes the primary stack fully qualified, as Pulumi Cloud and DIY backends both name it", () => {
    for (const primaryStack of ["acme/cdc-pipeline/dev", "organization/cdc-pipeline/dev"]) {
      expect(parseStackSettings({ ...valid, failover: { primaryStack } }, "dr", ALL_SECRETS).failover).toEqual({
        primaryStack,
      });
    }
    for (const primaryStack of ["dev", "acme/dev", "acme/other-project/dev"]) {
      expect(problemsOf({ ...valid, failover: { primaryStack } })).toEqual([
        expect.stringMatching(/^cdc-pipeline:failover\.primaryStack <org>\/cdc-pipeline\/<stack>/),
      ]);
    }
  });
});

describe("parseStackSettings: connectors", () => {
  it("defaults each connector to running, one task, no extra settings and no ignored keys", () => {
    const settings = parseStackSettings(valid, "local", ALL_SECRETS);
    const none = { state: "running", tasksMax: 1, settings: {}, ignoreKeys: [] };
    expect(settings.connectors).toEqual({ source: none, sink: none });
  });

  it("takes a state, tasks, extra settings and ignored keys", () => {
    const sink = { state: "paused", tasksMax: 4, settings: { "batch.size": 500 }, ignoreKeys: ["transforms"] };
    const settings = parseStackSettings({ ...valid, connectors: { sink } }, "local", ALL_SECRETS);
    expect(settings.connectors.sink).toEqual(sink);
    expect(settings.connectors.source.state).toBe("running");
  });

  it("names a bad state, a task count below 1, and more than one source task", () => {
    expect(
      problemsOf({
        ...valid,
        connectors: { source: { state: "asleep", tasksMax: 2 }, sink: { tasksMax: 0, settings: { "a.b": null } } },
      }),
    ).toEqual([
      expect.stringMatching(/^cdc-pipeline:connectors\.source\.state .*"running"\|"paused"\|"stopped"/),
      expect.stringMatching(/^cdc-pipeline:connectors\.sink\.tasksMax .*>=1/),
      expect.stringMatching(
        /^cdc-pipeline:connectors\.sink\.settings(\.a\.b|\["a\.b"\]) must be a string, number or boolean/,
      ),
    ]);
    expect(problemsOf({ ...valid, connectors: { source: { tasksMax: 2 } } })).toEqual([
      expect.stringMatching(/^cdc-pipeline:connectors\.source\.tasksMax must be 1: Debezium's source connector/),
    ]);
  });

  it("refuses an extra setting the project derives, naming the stack key that sets it, and a password", () => {
    const problems = problemsOf({
      ...valid,
      connectors: {
        source: { settings: { "snapshot.mode": "never", "slot.name": "mine" } },
        sink: { settings: { "connection.password": "hunter2", "ssl.key.password": "x" } },
      },
    });
    expect(problems).toEqual([
      expect.stringMatching(/connectors\.source\.settings.*snapshot\.mode.* is derived from pipeline\.snapshotMode/),
      expect.stringMatching(/connectors\.source\.settings.*slot\.name.* is derived from pipeline\.slotName/),
      expect.stringMatching(
        /connectors\.sink\.settings.*connection\.password.* is derived from the secret targetPassword/,
      ),
      expect.stringMatching(/connectors\.sink\.settings.*ssl\.key\.password.* looks like a secret/),
    ]);
    expect(problems.join("\n")).not.toContain("hunter2");
  });
});

describe("parseStackSettings: tables' SQL Server options, allowDestructive, the change topics", () => {
  it("takes a SQL Server table's gating role, net changes and filegroup, and the target's allowDestructive", () => {
    const table = { ...valid.tables[0], sqlServer: { gatingRole: "cdc_readers", netChanges: true, filegroup: "CDC" } };
    const settings = parseStackSettings(
      { ...containerStack, tables: [table], target: { ...containerStack.target, allowDestructive: true } },
      "dev",
      ALL_SECRETS,
    );
    expect(settings.tables[0].sqlServer).toEqual(table.sqlServer);
    expect(settings.target.allowDestructive).toBe(true);
    expect(settings.pipeline.topicPartitions).toBe(-1);
  });

  it("refuses SQL Server options on a PostgreSQL source's table, and bad topic settings", () => {
    expect(
      problemsOf({
        ...valid,
        tables: [{ ...valid.tables[0], sqlServer: { netChanges: true } }],
        pipeline: { topicPrefix: "local", topicPartitions: 0, topicRetentionMs: -2 },
      }),
    ).toEqual([
      expect.stringMatching(/^cdc-pipeline:pipeline\.topicPartitions .*>=1/),
      expect.stringMatching(
        /^cdc-pipeline:pipeline\.topicRetentionMs must be -1 \(keep every change\) or at least 1 ms/,
      ),
      expect.stringMatching(/^cdc-pipeline:tables\[0\]\.sqlServer applies only to a SQL Server source: remove it/),
    ]);
  });

  it("refuses a retention of 0 and a derived key among the ignored keys", () => {
    expect(problemsOf({ ...valid, pipeline: { topicPrefix: "local", topicRetentionMs: 0 } })).toEqual([
      expect.stringMatching(
        /^cdc-pipeline:pipeline\.topicRetentionMs must be -1 \(keep every change\) or at least 1 ms/,
      ),
    ]);
    expect(
      problemsOf({ ...valid, connectors: { source: { ignoreKeys: ["poll.interval.ms", "table.include.list"] } } }),
    ).toEqual([
      expect.stringMatching(
        /^cdc-pipeline:connectors\.source\.ignoreKeys\[1\] 'table\.include\.list' is derived from tables: it cannot be ignored/,
      ),
    ]);
  });

  it("refuses a sink setting outside the values its plugin takes, in any case, which the plugin's validation lets pass", () => {
    const sink = { settings: { "insert.mode": "merge", "schema.evolution": "BASIC" } };
    expect(problemsOf({ ...valid, connectors: { sink } })).toEqual([
      expect.stringMatching(
        /^cdc-pipeline:connectors\.sink\.settings(\.insert\.mode|\["insert\.mode"\]) must be one of insert, update, upsert, got 'merge'/,
      ),
    ]);
    // The source's settings are the source plugin's own: its validation checks them.
    const settings = parseStackSettings(
      { ...valid, connectors: { source: { settings: { "insert.mode": "merge" } } } },
      "local",
      ALL_SECRETS,
    );
    expect(settings.connectors.source.settings).toEqual({ "insert.mode": "merge" });
  });

  it("refuses signal or notification channels without the ones resync and repair use, and keeps added ones", () => {
    const channels = (settings: Record<string, string>) =>
      problemsOf({ ...valid, connectors: { source: { settings } } });
    expect(channels({ "signal.enabled.channels": "kafka" })).toEqual([
      "cdc-pipeline:connectors.source.settings.signal.enabled.channels must keep 'source' in its list, got 'kafka' (resync, repair and backfills use it) (fix: pulumi config set --stack dev --path 'connectors.source.settings.signal.enabled.channels' <value>)",
    ]);
    expect(channels({ "notification.enabled.channels": "log, jmx" })).toEqual([
      "cdc-pipeline:connectors.source.settings.notification.enabled.channels must keep 'sink' in its list, got 'log, jmx' (resync, repair and backfills use it) (fix: pulumi config set --stack dev --path 'connectors.source.settings.notification.enabled.channels' <value>)",
    ]);
    const extended = { "signal.enabled.channels": "source, kafka", "notification.enabled.channels": "sink,log" };
    expect(
      parseStackSettings({ ...valid, connectors: { source: { settings: extended } } }, "local", ALL_SECRETS).connectors
        .source.settings,
    ).toEqual(extended);
  });

  it("refuses a topic prefix that makes a PostgreSQL source's derived names longer than PostgreSQL allows", () => {
    const prefix = "p".repeat(50);
    expect(problemsOf({ ...valid, pipeline: { topicPrefix: prefix } })).toEqual([
      expect.stringMatching(
        /^cdc-pipeline:pipeline\.topicPrefix is too long for a PostgreSQL source: the heartbeat table 'p{50}_cdc_heartbeat' would have 64 characters, PostgreSQL allows 63/,
      ),
    ]);
    expect(
      parseStackSettings({ ...valid, pipeline: { topicPrefix: "p".repeat(49) } }, "local", ALL_SECRETS),
    ).toBeTruthy();
    // A SQL Server source makes no PostgreSQL names of it.
    expect(
      parseStackSettings({ ...containerStack, pipeline: { topicPrefix: prefix } }, "dev", ALL_SECRETS),
    ).toBeTruthy();
  });

  it("refuses topic.creation settings among a connector's extra settings, naming the pipeline key", () => {
    expect(
      problemsOf({ ...valid, connectors: { source: { settings: { "topic.creation.default.partitions": 3 } } } }),
    ).toEqual([expect.stringMatching(/is derived from pipeline\.topicPartitions/)]);
  });
});

describe("parseStackSettings: adopting hand-made connectors", () => {
  it("takes the hand-made connectors' names, slot and publication", () => {
    const settings = parseStackSettings(
      {
        ...valid,
        pipeline: { topicPrefix: "sqlserver", slotName: "debezium", publicationName: "dbz_publication" },
        connectors: {
          source: { adoptFrom: "postgres-source-connector" },
          sink: { adoptFrom: "postgres-sink-connector" },
        },
      },
      "local",
      ALL_SECRETS,
    );
    expect(settings.connectors.source.adoptFrom).toBe("postgres-source-connector");
    expect(settings.connectors.sink.adoptFrom).toBe("postgres-sink-connector");
    expect(settings.pipeline).toMatchObject({ slotName: "debezium", publicationName: "dbz_publication" });
    const sqlServer = parseStackSettings(
      { ...containerStack, pipeline: { topicPrefix: "sqlserver", schemaHistoryTopic: "schema-changes.warehouse" } },
      "dev",
      ALL_SECRETS,
    );
    expect(sqlServer.pipeline.schemaHistoryTopic).toBe("schema-changes.warehouse");
  });

  it("refuses a name no slot or topic can have, another engine's names, and the stack's own connector", () => {
    expect(
      problemsOf({
        ...valid,
        pipeline: { topicPrefix: "local", slotName: "My-Slot", schemaHistoryTopic: "history" },
        connectors: { source: { adoptFrom: "local-source" }, sink: { adoptFrom: "a/b" } },
      }),
    ).toEqual([
      expect.stringMatching(/^cdc-pipeline:pipeline\.slotName .*1 to 63 lowercase letters, digits or '_'/),
      expect.stringMatching(
        /^cdc-pipeline:connectors\.sink\.adoptFrom .*a connector name: .* no control characters, '\/'/,
      ),
      expect.stringMatching(
        /^cdc-pipeline:connectors\.source\.adoptFrom is this stack's own connector 'local-source': name the hand-made/,
      ),
      expect.stringMatching(/^cdc-pipeline:pipeline\.schemaHistoryTopic applies only to a SQL Server source/),
    ]);
    expect(
      problemsOf({
        ...containerStack,
        pipeline: { topicPrefix: "inventory", slotName: "debezium", publicationName: "p" },
      }),
    ).toEqual([
      expect.stringMatching(/^cdc-pipeline:pipeline\.slotName applies only to a PostgreSQL source/),
      expect.stringMatching(/^cdc-pipeline:pipeline\.publicationName applies only to a PostgreSQL source/),
    ]);
  });
});

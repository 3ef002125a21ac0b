// Monitoring files for the pipeline's containers: the JMX exporter's rules for Kafka Connect and Debezium,
// Prometheus' scrape config and alert rules, Grafana's datasource and dashboard. Plain text builders, so
// the component stays a list of containers and the files are testable alone.

/** Maps Connect and Debezium JMX beans to Prometheus metrics the alert rules use. */
export function jmxExporterConfig(connectJmx: string): string {
  return `hostPort: ${connectJmx}
lowercaseOutputName: true
rules:
  - pattern: 'kafka.connect<type=connector-metrics, connector=(.+)><>status: ([a-z-]+)'
    name: kafka_connect_connector_status
    labels: { connector: "$1", status: "$2" }
    value: 1
  - pattern: 'kafka.connect<type=connector-task-metrics, connector=(.+), task=(.+)><>status: ([a-z-]+)'
    name: kafka_connect_task_status
    labels: { connector: "$1", task: "$2", status: "$3" }
    value: 1
  - pattern: 'debezium.([^:]+)<type=connector-metrics, context=streaming, server=(.+), task=(.+)><>MilliSecondsBehindSource'
    name: debezium_streaming_milliseconds_behind_source
    labels: { plugin: "$1", server: "$2", task: "$3" }
`;
}

export interface ScrapeTargets {
  /** host:port of the JMX exporter for Connect. */
  readonly connect: string;
  /** host:port of the Kafka exporter (topic offsets). */
  readonly kafka: string;
  /** host:port of the Pushgateway the backup jobs report to. */
  readonly pushgateway: string;
  /** host:port of `cdc-pipeline watch`'s metrics. Default: none. */
  readonly watch?: string;
}

export function prometheusConfig(t: ScrapeTargets): string {
  return `global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files: [/etc/prometheus/alerts.yml]
scrape_configs:
  - job_name: connect
    static_configs: [{ targets: ["${t.connect}"] }]
  - job_name: kafka
    static_configs: [{ targets: ["${t.kafka}"] }]
  - job_name: backups
    honor_labels: true
    static_configs: [{ targets: ["${t.pushgateway}"] }]
${
  t.watch
    ? `  - job_name: watch
    static_configs: [{ targets: ["${t.watch}"] }]
`
    : ""
}`;
}

export interface AlertThresholds {
  /** Replication lag that pages, in seconds. */
  readonly lagSeconds: number;
  /** Recovery point objective: the newest backup may be this many hours old. */
  readonly rpoHours: number;
  /** Topic receiving the records the sink could not write. */
  readonly deadLetterTopic: string;
}

export function alertRules(a: AlertThresholds): string {
  return `groups:
  - name: cdc-pipeline
    rules:
      - alert: ConnectorDown
        expr: sum by (connector) (kafka_connect_connector_status{status="running"}) == 0
        for: 2m
        labels: { severity: critical }
        annotations: { summary: "Connector {{ $labels.connector }} is not running" }
      - alert: ConnectorTaskFailed
        expr: kafka_connect_task_status{status="failed"} == 1
        for: 1m
        labels: { severity: critical }
        annotations: { summary: "Task {{ $labels.task }} of {{ $labels.connector }} failed" }
      - alert: ReplicationLagHigh
        expr: max by (server) (debezium_streaming_milliseconds_behind_source) > ${a.lagSeconds * 1000}
        for: 5m
        labels: { severity: warning }
        annotations: { summary: "Source {{ $labels.server }} is more than ${a.lagSeconds} s behind" }
      - alert: DeadLetterTopicGrowing
        expr: sum(increase(kafka_topic_partition_current_offset{topic="${a.deadLetterTopic}"}[10m])) > 0
        labels: { severity: warning }
        annotations: { summary: "Records the sink could not write are arriving in ${a.deadLetterTopic}" }
      - alert: BackupOlderThanRpo
        expr: time() - max by (kind) (cdc_backup_last_success_timestamp_seconds) > ${a.rpoHours * 3600}
        labels: { severity: critical }
        annotations: { summary: "The newest {{ $labels.kind }} backup is older than the ${a.rpoHours} h RPO" }
`;
}

export function grafanaDatasource(prometheusUrl: string): string {
  return `apiVersion: 1
datasources:
  - name: Prometheus
    uid: prometheus
    type: prometheus
    access: proxy
    url: ${prometheusUrl}
    isDefault: true
`;
}

export const GRAFANA_DASHBOARD_PROVIDER = `apiVersion: 1
providers:
  - name: cdc-pipeline
    type: file
    options: { path: /var/lib/grafana/dashboards }
`;

/** The pipeline dashboard: connector and task states, lag, dead letters, backup age. */
export function grafanaDashboard(deadLetterTopic: string): string {
  const panel = (id: number, title: string, expr: string, y: number) => ({
    id,
    title,
    type: "timeseries",
    datasource: { type: "prometheus", uid: "prometheus" },
    gridPos: { h: 8, w: 12, x: (id % 2) * 12, y },
    targets: [{ expr, refId: "A" }],
  });
  return JSON.stringify(
    {
      uid: "cdc-pipeline",
      title: "CDC pipeline",
      schemaVersion: 39,
      panels: [
        panel(1, "Connectors running", 'sum by (connector) (kafka_connect_connector_status{status="running"})', 0),
        panel(2, "Failed tasks", 'sum by (connector) (kafka_connect_task_status{status="failed"})', 0),
        panel(3, "Lag behind source (ms)", "max by (server) (debezium_streaming_milliseconds_behind_source)", 8),
        panel(4, "Dead letters", `sum(kafka_topic_partition_current_offset{topic="${deadLetterTopic}"})`, 8),
        panel(5, "Backup age (s)", "time() - max by (kind) (cdc_backup_last_success_timestamp_seconds)", 16),
      ],
    },
    null,
    2,
  );
}

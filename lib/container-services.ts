// Where the pipeline's containers are reached, in one place: PipelineContainers declares its services with
// these names and ports, and the stack configuration derives from them every address the program, the
// operations commands and the connectors use when components.containers is on.

/** A container's address: its network name and port inside the Docker network, its port on the Docker host. */
export interface ContainerService {
  /** Network alias (also the container's host name) other containers use. */
  readonly name: string;
  /** Port inside the Docker network. */
  readonly port: number;
  /** Port published on the Docker host, for the program and the operations commands. */
  readonly publishedPort: number;
}

export const CONTAINER_SERVICES = {
  sqlserver: { name: "sqlserver", port: 1433, publishedPort: 1433 },
  postgres: { name: "postgres", port: 5432, publishedPort: 5432 },
  // Two listeners: INTERNAL (kafka:9092) for the containers, EXTERNAL advertised as <publicHost>:9094 for
  // clients outside the Docker network. A client is sent to the advertised address of the listener it used,
  // so each side must reach its own listener's advertised address.
  kafka: { name: "kafka", port: 9092, publishedPort: 9094 },
  connect: { name: "connect", port: 8083, publishedPort: 8083 },
  prometheus: { name: "prometheus", port: 9090, publishedPort: 9090 },
  grafana: { name: "grafana", port: 3000, publishedPort: 3000 },
  pushgateway: { name: "pushgateway", port: 9091, publishedPort: 9091 },
} as const satisfies Record<string, ContainerService>;

/** Kafka brokers the containers run: topics they create cannot be replicated more often. */
export const CONTAINER_BROKERS = 1;

/** The KRaft controller listener's port inside the Docker network (never published). */
export const KAFKA_CONTROLLER_PORT = 9093;

/**
 * The host name under which a Docker host's published ports are reached from where `pulumi up` runs: the
 * host of a tcp:// or ssh:// URL, localhost for a local socket.
 */
export function dockerPublicHost(dockerHost: string): string {
  if (dockerHost.startsWith("unix://")) return "localhost";
  const url = new URL(dockerHost);
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

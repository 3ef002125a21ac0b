// A KafkaConnector's state as create records it for a running connector with one task, for the unit tests
// that start from a deployed connector.
import { hashSecrets } from "../lib/connector-config";
import { clusterCredentialsHash } from "../lib/connector-state";
import type { KafkaConnectorInputs, KafkaConnectorState } from "../providers/kafka-connector";

/** The salt of every recorded test connector. */
export const RECORDED_SALT = "00112233445566778899aabbccddeeff";

/**
 * The state the current provider version records after `inputs` were deployed and found running on worker
 * w:8083 (Connect 4.3.1).
 */
export function recordedConnector(inputs: KafkaConnectorInputs): KafkaConnectorState & { providerVersion: number } {
  const { sensitiveConfig, offsetsFrom: _from, state: _desired, ...settings } = inputs;
  return {
    ...settings,
    url: inputs.cluster.url,
    sensitiveKeys: Object.keys(sensitiveConfig).sort(),
    sensitiveHash: hashSecrets(sensitiveConfig, RECORDED_SALT),
    clusterHash: clusterCredentialsHash(inputs.cluster, RECORDED_SALT),
    salt: RECORDED_SALT,
    state: "running",
    tasks: [{ id: 0, state: "RUNNING", workerId: "w:8083" }],
    workerId: "w:8083",
    workerVersion: "4.3.1",
    topics: [],
    providerVersion: 2,
  };
}

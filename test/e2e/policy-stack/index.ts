// One KafkaConnector holding a password, for test/e2e/policy.test.ts: in `config` when the stack's config
// `passwordIn` is "config", else in `sensitiveConfig`. Only ever previewed, with validation off: it needs
// no Connect worker, nothing but the CLI.
import * as pulumi from "@pulumi/pulumi";
import { KafkaConnector } from "../../../providers/kafka-connector";

const password = "not-a-real-password";
const plaintext = new pulumi.Config().get("passwordIn") === "config";

new KafkaConnector("source", {
  cluster: { url: "http://127.0.0.1:9" }, // the discard port: nothing listens there
  config: {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": "127.0.0.1",
    ...(plaintext ? { "database.password": password } : {}),
  },
  sensitiveConfig: plaintext ? {} : { "database.password": password },
  validate: false,
});

// `count` FileStream sink connectors (cheap: no database), to measure what a refresh preview costs.
import * as pulumi from "@pulumi/pulumi";
import { KafkaConnector } from "../../providers/kafka-connector";

const config = new pulumi.Config();
const url = config.require("connectUrl");
const prefix = config.require("prefix");

for (let i = 0; i < config.requireNumber("count"); i++) {
  new KafkaConnector(`c${i}`, {
    cluster: { url },
    name: `${prefix}-${i}`,
    config: {
      "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
      file: "/dev/null",
      topics: `${prefix}-topic`,
      "tasks.max": 1,
    },
  });
}

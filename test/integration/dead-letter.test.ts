// The sink's dead-letter topic on the harness's real worker (Kafka Connect 4.3, Debezium's JDBC sink): a
// record the sink's converter cannot read goes there with Kafka Connect's error headers; once the cause is
// fixed (the converter set right) a replay writes it to its topic again and it arrives in the target; the same
// for a record a transformation failed on. What
// the JDBC sink cannot write (a NOT NULL column given null) does not go there: it fails the task
// (JdbcSinkConnectorTask has no errant-record reporter).
import { Admin, Producer } from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetterDepth, readDeadLetters, replayDeadLetters, replayTopic } from "../../lib/dead-letter";
import { jdbcSinkConfig } from "../../lib/debezium-configs";
import { getStatus } from "../../lib/connector-api";
import { connectHttp } from "../../lib/connect-rest";
import {
  kafkaConnectorProvider as connectors,
  type KafkaConnectorInputs,
  type KafkaConnectorState,
} from "../../providers/kafka-connector";
import { cluster, eventually, query } from "../connectors";
import { harness } from "../harness";

const run = Date.now().toString(36);
const prefix = `it_dlq_${run}`;
const table = `dlq_${run}`;
const topic = `${prefix}.public.${table}`;
const dlq = { bootstrapServers: harness.env.CDC_KAFKA_BOOTSTRAP, topic: `${prefix}.dead-letter` };

/** The sink, with settings that break (or fix) a stage of its pipeline. */
const sinkInputs = (settings: Record<string, string> = {}): KafkaConnectorInputs =>
  ({
    cluster,
    name: `${prefix}-sink`,
    config: {
      ...jdbcSinkConfig({
        ...harness.target,
        topics: [topic],
        schema: "public",
        deadLetterTopic: dlq.topic,
        deadLetterReplicationFactor: 1,
      }),
      ...settings,
    },
    sensitiveConfig: { "connection.password": harness.pgPassword },
    readyTimeoutSeconds: 60,
  }) as unknown as KafkaConnectorInputs;

/** A change event as Debezium's PostgreSQL source writes it with the JsonConverter (schema and payload). */
function changeEvent(id: number, name: string | null) {
  const row = {
    type: "struct",
    optional: true,
    fields: [
      { field: "id", type: "int32", optional: false },
      { field: "name", type: "string", optional: true },
    ],
  };
  const key = {
    schema: { type: "struct", fields: [{ field: "id", type: "int32", optional: false }] },
    payload: { id },
  };
  const value = {
    schema: {
      type: "struct",
      name: `${prefix}.public.${table}.Envelope`,
      fields: [
        { ...row, field: "before" },
        { ...row, field: "after" },
        {
          type: "struct",
          field: "source",
          fields: [
            { field: "schema", type: "string" },
            { field: "table", type: "string" },
          ],
        },
        { field: "op", type: "string" },
      ],
    },
    payload: { before: null, after: { id, name }, source: { schema: "public", table }, op: "c" },
  };
  return { key: Buffer.from(JSON.stringify(key)), value: Buffer.from(JSON.stringify(value)) };
}

async function produce(messages: { key: Buffer; value: Buffer }[]) {
  const producer = new Producer({ clientId: "it-dlq", bootstrapBrokers: [harness.env.CDC_KAFKA_BOOTSTRAP] });
  try {
    await producer.send({ messages: messages.map((m) => ({ ...m, topic })) });
  } finally {
    await producer.close();
  }
}

const ids = async () =>
  (await query<{ id: number }>("target", `SELECT id FROM public.${table} ORDER BY id`).catch(() => [])).map(
    (r) => r.id,
  );

let sink: KafkaConnectorState;

/** The harness's broker, as an admin client (the test's topics are made and removed with it). */
const kafkaAdmin = () => new Admin({ clientId: "it-dlq", bootstrapBrokers: [harness.env.CDC_KAFKA_BOOTSTRAP] });

beforeAll(async () => {
  // Made before the first record is produced: the broker's auto-creation would race the producer's first send.
  const admin = kafkaAdmin();
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  } finally {
    await admin.close();
  }
  await query("target", `CREATE TABLE public.${table} (id integer PRIMARY KEY, name text NOT NULL)`);
  // A converter that cannot read the topic's records: each goes to the dead-letter topic.
  const wrong = sinkInputs({ "value.converter": "org.apache.kafka.connect.converters.IntegerConverter" });
  sink = (await connectors.create((await connectors.check(wrong, wrong)).inputs as KafkaConnectorInputs)).outs!;
}, 120_000);

afterAll(async () => {
  await connectors.delete(sink.name, sink).catch(() => undefined);
  await query("target", `DROP TABLE IF EXISTS public.${table}`);
  const admin = kafkaAdmin();
  try {
    await admin.deleteTopics({ topics: [topic, dlq.topic] }).catch(() => undefined);
  } finally {
    await admin.close();
  }
}, 60_000);

describe("the dead-letter topic", () => {
  it("holds a record the converter could not read, with the stage and error; a replay after the fix writes it to the target", async () => {
    await produce([changeEvent(1, "one"), changeEvent(2, "two")]);
    const letters = await eventually(
      () => readDeadLetters(dlq, { limit: 10 }),
      (l) => l.length === 2,
    );
    expect(await deadLetterDepth(dlq)).toBe(2);
    expect(letters.map((l) => [l.partition, l.offset])).toEqual([
      [0, 0n],
      [0, 1n],
    ]);
    expect(letters[0].context).toMatchObject({
      topic,
      partition: 0,
      offset: 0n,
      connector: `${prefix}-sink`,
      task: 0,
      stage: "VALUE_CONVERTER",
      stageClass: "org.apache.kafka.connect.converters.IntegerConverter",
      exceptionClass: "org.apache.kafka.connect.errors.DataException",
    });
    expect(await ids()).toEqual([]);
    await expect(readDeadLetters(dlq, { from: { partition: 0, offset: 5n }, limit: 1 })).rejects.toThrow(
      `no dead letter at 0/5: ${dlq.topic} holds 0/0..0/1`,
    );

    // The cause fixed: the worker's JsonConverter again.
    const fixed = (await connectors.check(sink as unknown as KafkaConnectorInputs, sinkInputs()))
      .inputs as KafkaConnectorInputs;
    sink = (await connectors.update(sink.name, sink, fixed)).outs!;
    expect(() => replayTopic(letters[0], [topic], "elsewhere")).toThrow("--to-topic: 'elsewhere' is not read");
    expect(await replayDeadLetters(dlq, letters, (l) => replayTopic(l, [topic]))).toBe(2);
    expect(await eventually(ids, (r) => r.length === 2)).toEqual([1, 2]);
    // Nothing more failed.
    expect(await deadLetterDepth(dlq)).toBe(2);
  }, 180_000);

  it("holds a record a transformation failed on (TRANSFORMATION stage); replayed from its position once it is fixed", async () => {
    const failing = (
      await connectors.check(
        sink as unknown as KafkaConnectorInputs,
        sinkInputs({
          transforms: "rekey",
          "transforms.rekey.type": "org.apache.kafka.connect.transforms.ValueToKey",
          "transforms.rekey.fields": "nope",
        }),
      )
    ).inputs as KafkaConnectorInputs;
    sink = (await connectors.update(sink.name, sink, failing)).outs!;
    await produce([changeEvent(4, "four")]);
    const [letter] = await eventually(
      () => readDeadLetters(dlq, { from: { partition: 0, offset: 2n }, limit: 10 }).catch(() => []),
      (l) => l.length === 1,
    );
    expect(letter.context).toMatchObject({
      topic,
      stage: "TRANSFORMATION",
      stageClass: "org.apache.kafka.connect.transforms.ValueToKey",
    });
    expect(letter.context.exceptionMessage).toContain("nope");
    expect(await ids()).toEqual([1, 2]);

    const fixed = (await connectors.check(sink as unknown as KafkaConnectorInputs, sinkInputs()))
      .inputs as KafkaConnectorInputs;
    sink = (await connectors.update(sink.name, sink, fixed)).outs!;
    expect(await replayDeadLetters(dlq, [letter], (l) => replayTopic(l, [topic]))).toBe(1);
    expect(await eventually(ids, (r) => r.length === 3)).toEqual([1, 2, 4]);
    expect(await deadLetterDepth(dlq)).toBe(3);
  }, 180_000);

  it("a row the database refuses (NOT NULL given null) fails the task instead: nothing goes to the dead-letter topic", async () => {
    await produce([changeEvent(3, null)]);
    const http = connectHttp(cluster);
    const status = await eventually(
      () => getStatus(http, sink.name, []),
      (s) => s?.tasks.some((t) => t.state === "FAILED") ?? false,
      120_000,
    );
    expect(status!.traces.join("\n")).toContain("JDBC sink connector failure");
    expect(await deadLetterDepth(dlq)).toBe(3);
  }, 180_000);
});

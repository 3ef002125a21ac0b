// The sink's dead-letter topic, as `cdc-pipeline dlq` reads and replays it. Kafka Connect's framework writes a
// record there when converting or transforming it failed and errors.tolerance is "all" (jdbcSinkConfig sets
// it), with its error context in `__connect.errors.*` headers (errors.deadletterqueue.context.headers.enable).
// Debezium's JDBC sink (3.6) never reports a record itself: a write the database refuses fails the task
// instead (JdbcSinkConnectorTask keeps the error and throws "JDBC sink connector failure" at the next put),
// so nothing of the write stage is ever found here.
import { type Consumer, Producer } from "@platformatic/kafka";
import { EARLIEST, LATEST, offsetReader, topicOffsets } from "./kafka-cluster";

/** The error context Kafka Connect writes in a dead letter's headers (DeadLetterQueueReporter). */
export interface DeadLetterContext {
  /** Where the record was read from. */
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: bigint;
  /** The connector and task that failed on it. */
  readonly connector?: string;
  readonly task?: number;
  /** The stage that failed (KEY_CONVERTER, VALUE_CONVERTER, HEADER_CONVERTER, TRANSFORMATION, TASK_PUT...). */
  readonly stage?: string;
  /** The class of that stage (the converter's or transformation's). */
  readonly stageClass?: string;
  readonly exceptionClass?: string;
  readonly exceptionMessage?: string;
  readonly stackTrace?: string;
}

/** One record of the dead-letter topic: where it is there, what it holds, and why it is there. */
export interface DeadLetter {
  readonly partition: number;
  readonly offset: bigint;
  readonly timestamp: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly context: DeadLetterContext;
}

const HEADER_PREFIX = "__connect.errors.";

/** The header each context field is read from (Kafka Connect's DeadLetterQueueReporter names). */
const HEADERS = {
  topic: "topic",
  partition: "partition",
  offset: "offset",
  connector: "connector.name",
  task: "task.id",
  stage: "stage",
  stageClass: "class.name",
  exceptionClass: "exception.class.name",
  exceptionMessage: "exception.message",
  stackTrace: "exception.stacktrace",
} as const satisfies Record<keyof DeadLetterContext, string>;

/** A dead letter's error context from its headers; a header that is absent leaves its field out. */
export function deadLetterContext(
  headers: Iterable<readonly [Buffer | string, Buffer | string | null]>,
): DeadLetterContext {
  const text = new Map<string, string>();
  for (const [key, value] of headers) {
    const name = key.toString();
    if (name.startsWith(HEADER_PREFIX) && value !== null) text.set(name.slice(HEADER_PREFIX.length), value.toString());
  }
  const field = (header: string) => text.get(header);
  const integer = (header: string) => {
    const value = field(header);
    return value !== undefined && /^-?\d+$/.test(value) ? Number(value) : undefined;
  };
  const offset = field(HEADERS.offset);
  const context: Record<string, unknown> = {
    topic: field(HEADERS.topic),
    partition: integer(HEADERS.partition),
    offset: offset !== undefined && /^\d+$/.test(offset) ? BigInt(offset) : undefined,
    connector: field(HEADERS.connector),
    task: integer(HEADERS.task),
    stage: field(HEADERS.stage),
    stageClass: field(HEADERS.stageClass),
    exceptionClass: field(HEADERS.exceptionClass),
    exceptionMessage: field(HEADERS.exceptionMessage),
    stackTrace: field(HEADERS.stackTrace),
  };
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined));
}

/**
 * Refuses a topic a replay may not write to: one no connector of the stack reads. `what` names where the topic
 * came from (the --to-topic flag, or the dead letter's header).
 */
export function checkReplayTopic(topic: string, readTopics: readonly string[], what: string): string {
  if (!readTopics.includes(topic)) {
    throw new Error(`${what}: '${topic}' is not read by any connector of the stack (${readTopics.join(", ")})`);
  }
  return topic;
}

/**
 * The topic a replay writes a dead letter to: the one named by --to-topic, else the topic the record came
 * from; either must be one a connector of the stack reads. An error names the flag and the topics allowed.
 */
export function replayTopic(
  letter: Pick<DeadLetter, "offset" | "partition" | "context">,
  readTopics: readonly string[],
  toTopic?: string,
): string {
  if (toTopic !== undefined) return checkReplayTopic(toTopic, readTopics, "--to-topic");
  const where = `dead letter ${letter.partition}/${letter.offset}`;
  if (letter.context.topic === undefined) {
    throw new Error(
      `${where} names no source topic (no ${HEADER_PREFIX}topic header): give --to-topic, one of ${readTopics.join(", ")}`,
    );
  }
  return checkReplayTopic(letter.context.topic, readTopics, where);
}

/** The dead-letter topic: the Kafka cluster as this program reaches it, and the topic's name. */
export interface DeadLetterTopic {
  readonly bootstrapServers: string;
  readonly topic: string;
}

/** Each partition's first kept and next offset; empty when the topic does not exist yet (nothing failed). */
async function partitionRanges(consumer: Consumer, topic: string): Promise<{ start: bigint; end: bigint }[]> {
  const ends = await topicOffsets(consumer, topic, LATEST);
  if (!ends) return [];
  // The topic is known to exist now: its starts need no second metadata request.
  const starts = (await consumer.listOffsets({ topics: [topic], timestamp: EARLIEST })).get(topic) ?? [];
  return ends.map((end, partition) => ({ start: starts[partition] ?? 0n, end }));
}

/** Runs `read` with a consumer of the topic's cluster, closed afterwards. */
async function withReader<T>(topic: DeadLetterTopic, read: (consumer: Consumer) => Promise<T>): Promise<T> {
  const consumer = offsetReader(topic.bootstrapServers);
  try {
    return await read(consumer);
  } finally {
    await consumer.close(true);
  }
}

/** How many records the dead-letter topic holds (what `status` shows). */
export const deadLetterDepth = (topic: DeadLetterTopic): Promise<number> =>
  withReader(topic, async (consumer) =>
    (await partitionRanges(consumer, topic.topic)).reduce((n, r) => n + Number(r.end - r.start), 0),
  );

/** Where a dead letter is: "partition/offset", or an offset alone on partition 0. */
export function parseLetterPosition(text: string): { partition: number; offset: bigint } {
  const match = /^(?:(\d+)\/)?(\d+)$/.exec(text.trim());
  if (!match)
    throw new Error(
      `'${text}' is not a dead letter's position: give an offset, or partition/offset (as list shows them)`,
    );
  return { partition: match[1] === undefined ? 0 : Number(match[1]), offset: BigInt(match[2]) };
}

/**
 * Reads the dead letters from `from` (default: each partition's oldest) up to the end the topic had when the
 * read began, at most `limit`. A position past the end, or before the oldest kept, is an error that names
 * the range there is.
 */
export const readDeadLetters = (
  topic: DeadLetterTopic,
  options: { readonly from?: { partition: number; offset: bigint }; readonly limit: number },
): Promise<DeadLetter[]> =>
  withReader(topic, async (consumer) => {
    const ranges = await partitionRanges(consumer, topic.topic);
    const { from } = options;
    if (from) {
      const range = ranges[from.partition];
      if (!range || from.offset < range.start || from.offset >= range.end) {
        const held = ranges.flatMap((r, p) => (r.end > r.start ? [`${p}/${r.start}..${p}/${r.end - 1n}`] : []));
        throw new Error(
          `no dead letter at ${from.partition}/${from.offset}: ${topic.topic} holds ${held.length > 0 ? held.join(", ") : "none"}`,
        );
      }
    }
    const wanted = ranges
      .map((r, partition) => ({
        partition,
        start: from ? (partition === from.partition ? from.offset : r.end) : r.start,
        end: r.end,
      }))
      .filter((r) => r.start < r.end);
    if (wanted.length === 0 || options.limit <= 0) return [];
    const stream = await consumer.consume({
      topics: [topic.topic],
      mode: "manual",
      offsets: wanted.map((r) => ({ topic: topic.topic, partition: r.partition, offset: r.start })),
      autocommit: false,
    });
    const letters: DeadLetter[] = [];
    const open = new Set(wanted.map((r) => r.partition));
    const endOf = new Map(wanted.map((r) => [r.partition, r.end]));
    try {
      for await (const message of stream) {
        const end = endOf.get(message.partition);
        if (end === undefined || message.offset >= end) continue;
        letters.push({
          partition: message.partition,
          offset: message.offset,
          timestamp: message.timestamp,
          key: message.key ?? null,
          value: message.value ?? null,
          context: deadLetterContext(message.headerEntries),
        });
        if (message.offset === end - 1n) open.delete(message.partition);
        if (open.size === 0 || letters.length >= options.limit) break;
      }
    } finally {
      await stream.close();
    }
    return letters.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
  });

/**
 * Writes each dead letter's key and value to the topic `topicFor` gives it (replayTopic), with a header
 * naming where it was in the dead-letter topic. Nothing is written unless every letter has its topic.
 */
export async function replayDeadLetters(
  topic: DeadLetterTopic,
  letters: readonly DeadLetter[],
  topicFor: (letter: DeadLetter) => string,
): Promise<number> {
  const messages = letters.map((letter) => ({
    topic: topicFor(letter),
    key: letter.key ?? undefined,
    value: letter.value ?? undefined,
    // Keys as Buffers too: the client writes header keys and values as given, with no serializer.
    headers: new Map([
      [Buffer.from("cdc-pipeline.replayed-from"), Buffer.from(`${topic.topic}/${letter.partition}/${letter.offset}`)],
    ]),
  }));
  if (messages.length === 0) return 0;
  const producer = new Producer({
    clientId: "cdc-pipeline",
    bootstrapBrokers: topic.bootstrapServers.split(",").map((server) => server.trim()),
    timeout: 10_000,
    retries: 2,
  });
  try {
    await producer.send({ messages });
    return messages.length;
  } finally {
    await producer.close();
  }
}

// Debezium's notifications, as its sink channel writes them to a Kafka topic (notification.sink.topic.name):
// how an incremental snapshot started, went on and finished. A watch reads the topic from where it ended
// when the watch was opened, so it sees only what happens after: open it before sending the signal.
import type { MessagesStream } from "@platformatic/kafka";
import { LATEST, offsetReader, topicOffsets } from "./kafka-cluster";

/** One notification (io.debezium.connector.common.Notification). */
export interface DebeziumNotification {
  /** The correlation id: for an incremental snapshot, the id of the signal that asked for it. */
  readonly id: string;
  /** What it is about: "Incremental Snapshot", "Initial Snapshot". */
  readonly aggregateType: string;
  /** STARTED, IN_PROGRESS, TABLE_SCAN_COMPLETED, COMPLETED, ABORTED, PAUSED, RESUMED. */
  readonly type: string;
  /** Details by type, such as scanned_collection, total_rows_scanned and status of TABLE_SCAN_COMPLETED. */
  readonly additionalData: Readonly<Record<string, string>>;
}

/**
 * A notification from a record's value: JSON, with or without the JsonConverter's schema envelope;
 * undefined for a value that is not one (a tombstone, another converter).
 */
export function parseNotification(value: Buffer | string | null | undefined): DebeziumNotification | undefined {
  if (value === null || value === undefined || value.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch {
    return undefined;
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  if (!isObject(parsed)) return undefined;
  const body = parsed.schema !== undefined && "payload" in parsed ? parsed.payload : parsed;
  if (!isObject(body)) return undefined;
  if (typeof body.id !== "string" || typeof body.type !== "string") return undefined;
  const data = body.additional_data;
  return {
    id: body.id,
    aggregateType: typeof body.aggregate_type === "string" ? body.aggregate_type : "",
    type: body.type,
    additionalData: isObject(data) ? (data as Record<string, string>) : {},
  };
}

/** Notifications as they arrive, from the moment the watch was opened. */
export interface NotificationWatch {
  /** The next notification; undefined once `deadline` (a Date.now() time) has passed without one. */
  next(deadline: number): Promise<DebeziumNotification | undefined>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens a watch on the notification topic at its current end. A topic that does not exist yet (the connector
 * has sent no notification so far) is read from its start once it appears.
 */
export async function watchNotifications(bootstrapServers: string, topic: string): Promise<NotificationWatch> {
  const consumer = offsetReader(bootstrapServers);
  let from: bigint[] | undefined;
  try {
    from = await topicOffsets(consumer, topic, LATEST);
  } catch (err) {
    await consumer.close(true);
    throw err;
  }
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  let iterator: AsyncIterator<{ value: Buffer }> | undefined;
  let pending: Promise<IteratorResult<{ value: Buffer }>> | undefined;

  async function open(deadline: number): Promise<boolean> {
    while (!from) {
      if (Date.now() > deadline) return false;
      await sleep(500);
      from = (await topicOffsets(consumer, topic, LATEST))?.map(() => 0n);
    }
    stream = await consumer.consume({
      topics: [topic],
      mode: "manual",
      offsets: from.map((offset, partition) => ({ topic, partition, offset })),
      autocommit: false,
    });
    iterator = stream[Symbol.asyncIterator]() as AsyncIterator<{ value: Buffer }>;
    return true;
  }

  return {
    async next(deadline) {
      if (!iterator && !(await open(deadline))) return undefined;
      for (;;) {
        // A read that outlived an earlier deadline is still the next record: it is kept, not started again.
        pending ??= iterator!.next();
        const wait = Math.max(0, deadline - Date.now());
        let timer: NodeJS.Timeout | undefined;
        const result = await Promise.race([
          pending,
          new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), wait))),
        ]);
        clearTimeout(timer);
        if (result === "timeout") return undefined;
        pending = undefined;
        if (result.done) return undefined;
        const notification = parseNotification(result.value.value);
        if (notification) return notification;
      }
    },
    async close() {
      await stream?.close().catch(() => undefined);
      await consumer.close(true).catch(() => undefined);
    },
  };
}

import { describe, expect, it } from "vitest";
import { deadLetterContext, parseLetterPosition, replayTopic } from "../../lib/dead-letter";

// Headers as Kafka Connect's DeadLetterQueueReporter writes them for a value the converter could not read.
const converterFailure: [string, string][] = [
  ["__connect.errors.topic", "inventory.dbo.customers"],
  ["__connect.errors.partition", "0"],
  ["__connect.errors.offset", "42"],
  ["__connect.errors.connector.name", "inventory-sink"],
  ["__connect.errors.task.id", "0"],
  ["__connect.errors.stage", "VALUE_CONVERTER"],
  ["__connect.errors.class.name", "org.apache.kafka.connect.json.JsonConverter"],
  ["__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException"],
  ["__connect.errors.exception.message", "Converting byte[] to Kafka Connect data failed"],
  ["other", "kept out"],
];

describe("deadLetterContext", () => {
  it("reads Kafka Connect's error headers, numbers as numbers", () => {
    expect(deadLetterContext(converterFailure.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]))).toEqual({
      topic: "inventory.dbo.customers",
      partition: 0,
      offset: 42n,
      connector: "inventory-sink",
      task: 0,
      stage: "VALUE_CONVERTER",
      stageClass: "org.apache.kafka.connect.json.JsonConverter",
      exceptionClass: "org.apache.kafka.connect.errors.DataException",
      exceptionMessage: "Converting byte[] to Kafka Connect data failed",
    });
  });

  it("leaves out what is absent or not a number", () => {
    expect(
      deadLetterContext([
        ["__connect.errors.offset", "x"],
        ["__connect.errors.stage", null],
      ]),
    ).toEqual({});
  });
});

describe("replayTopic", () => {
  const letter = { partition: 0, offset: 7n, context: deadLetterContext(converterFailure) };
  const read = ["inventory.dbo.customers", "inventory.dbo.orders"];

  it("is the record's own topic, or --to-topic", () => {
    expect(replayTopic(letter, read)).toBe("inventory.dbo.customers");
    expect(replayTopic(letter, read, "inventory.dbo.orders")).toBe("inventory.dbo.orders");
  });

  it("refuses a topic no connector of the stack reads, naming the flag and the topics", () => {
    expect(() => replayTopic(letter, read, "elsewhere")).toThrow(
      "--to-topic: 'elsewhere' is not read by any connector of the stack (inventory.dbo.customers, inventory.dbo.orders)",
    );
    expect(() => replayTopic({ partition: 0, offset: 7n, context: {} }, read)).toThrow(
      "dead letter 0/7 names no source topic (no __connect.errors.topic header): give --to-topic",
    );
  });
});

describe("parseLetterPosition", () => {
  it("reads an offset (partition 0) or partition/offset, as list prints them", () => {
    expect(parseLetterPosition("12")).toEqual({ partition: 0, offset: 12n });
    expect(parseLetterPosition("2/30")).toEqual({ partition: 2, offset: 30n });
  });

  it("refuses anything else, saying what to give", () => {
    for (const bad of ["", "-1", "1/", "a/2", "1.5"]) {
      expect(() => parseLetterPosition(bad)).toThrow(
        "is not a dead letter's position: give an offset, or partition/offset",
      );
    }
  });
});

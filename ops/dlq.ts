// `cdc-pipeline dlq`: the stack's dead-letter topic (lib/dead-letter) listed, one record shown with its error
// context, and records replayed to the topic they came from (or --to-topic) once the cause is fixed.
import {
  checkReplayTopic,
  readDeadLetters,
  replayDeadLetters,
  replayTopic,
  type DeadLetter,
  type DeadLetterTopic,
} from "../lib/dead-letter";
import { pipelineNames } from "../lib/pipeline-names";
import type { StackSite } from "./stacks";

/** The stack's dead-letter topic, as this program reaches Kafka. */
export function stackDeadLetterTopic(site: StackSite): DeadLetterTopic {
  const { settings } = site;
  if (!settings.kafkaConnect.bootstrapServers) {
    throw new Error("kafkaConnect.bootstrapServers is not set: the dead-letter topic cannot be read");
  }
  const names = pipelineNames(settings.pipeline, settings.source);
  return { bootstrapServers: settings.kafkaConnect.bootstrapServers, topic: names.deadLetterTopic };
}

/** The topics the stack's sink reads: the only ones a replay may write to. */
export function sinkTopics(site: StackSite): string[] {
  const names = pipelineNames(site.settings.pipeline, site.settings.source);
  return site.settings.tables.map((t) => names.changeTopic(`${t.schema}.${t.name}`));
}

/** One line per dead letter: where it is, when, which stage failed and why, and where it came from. */
export function formatDeadLetter(letter: DeadLetter): string {
  const c = letter.context;
  const from = c.topic !== undefined ? ` (from ${c.topic}/${c.partition ?? "?"}/${c.offset ?? "?"})` : "";
  const why = [c.exceptionClass, c.exceptionMessage].filter(Boolean).join(": ") || "no error context";
  return `${letter.partition}/${letter.offset}  ${new Date(Number(letter.timestamp)).toISOString()}  ${c.stage ?? "?"}  ${why}${from}`;
}

/** Replays the dead letters from `from` (default: the oldest), checking every target topic before writing any. */
export async function replayStackDeadLetters(
  site: StackSite,
  options: { readonly from?: { partition: number; offset: bigint }; readonly limit: number; readonly toTopic?: string },
): Promise<{ replayed: number; topics: string[] }> {
  const topic = stackDeadLetterTopic(site);
  const allowed = sinkTopics(site);
  // A --to-topic no connector reads is refused before anything is read, even with no dead letter to replay.
  if (options.toTopic !== undefined) checkReplayTopic(options.toTopic, allowed, "--to-topic");
  const letters = await readDeadLetters(topic, { from: options.from, limit: options.limit });
  const targets = new Map(letters.map((l) => [l, replayTopic(l, allowed, options.toTopic)]));
  const replayed = await replayDeadLetters(topic, letters, (l) => targets.get(l)!);
  return { replayed, topics: [...new Set(targets.values())].sort() };
}

// A command-line tool run to completion (pg_dump, pg_basebackup, tar, ...): its stderr is kept, redacted, as
// the error when it fails.
import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { redact } from "./redact";

/** Resolves with the tool's stderr (redacted) when it exits 0; rejects naming it, its exit and its stderr. */
export function completion(child: ChildProcess, what: string, secrets: readonly string[] = []): Promise<string> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
  return new Promise((resolve, reject) => {
    child.on("error", (err) => reject(new Error(`${what}: ${err.message}`)));
    child.on("close", (code, signal) =>
      code === 0
        ? resolve(redact(stderr, secrets))
        : reject(new Error(`${what} failed (${signal ?? `exit ${code}`}): ${redact(stderr.trim(), secrets)}`)),
    );
  });
}

/**
 * Hands a tool's stdout to `consume` as the tool writes it, and waits for both; when consuming fails (an
 * upload refused), the tool is stopped rather than left writing into a pipe nobody reads.
 */
export async function consumeOutput(
  child: ChildProcess,
  what: string,
  secrets: readonly string[],
  consume: (output: Readable) => Promise<void>,
): Promise<string> {
  const done = completion(child, what, secrets);
  try {
    await consume(child.stdout!);
  } catch (err) {
    child.kill();
    await done.catch(() => undefined);
    throw err;
  }
  return done;
}

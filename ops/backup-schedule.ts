// `cdc-pipeline backup schedule`: each kind of backups.schedule on its own interval, the first at once, until
// stopped; a PostgreSQL source's WAL, when the schedule names `log`, archived all along.
import { redact } from "../lib/redact";
import { jobDestination, runBackups, type BackupJob, type BackupOptions } from "./backup";
import { archiveWal } from "./wal-archive";

export interface ScheduleOptions {
  /** One line per backup taken or failed. */
  readonly log: (line: string) => void;
  /** Stops the schedule (SIGTERM in the CLI). */
  readonly signal: AbortSignal;
  /** How each backup is taken (a SQL Server session, the part size). Default: the job's. */
  readonly backup?: Omit<BackupOptions, "now">;
}

/**
 * Runs each kind of `backups.schedule` every so many seconds, the first at once, until aborted. A backup that
 * fails is logged and tried again at its next tick: the schedule itself never stops on one.
 */
export async function runSchedule(job: BackupJob, options: ScheduleOptions): Promise<void> {
  // A SQL Server source's log is a backup like the others, taken every so many seconds; PostgreSQL's WAL is
  // streamed all along and shipped at that interval.
  const streamsWal = job.source.engine === "postgres";
  const { log: logEvery, ...rest } = job.backups.schedule;
  const periodic = streamsWal ? rest : job.backups.schedule;
  const kinds = (Object.entries(periodic) as [keyof typeof job.backups.schedule, number | undefined][]).filter(
    (entry): entry is [keyof typeof job.backups.schedule, number] => entry[1] !== undefined,
  );
  if (kinds.length === 0 && logEvery === undefined) {
    throw new Error("backups.schedule names no kind: nothing to schedule");
  }
  const tick = async (kind: keyof typeof job.backups.schedule, every: number): Promise<void> => {
    while (!options.signal.aborted) {
      const started = Date.now();
      try {
        const [m] = await runBackups(job, [kind], options.backup);
        options.log(`${new Date().toISOString()} ${kind}: ${m.key} (${m.size} bytes, ${m.seconds} s)`);
      } catch (err) {
        options.log(
          `${new Date().toISOString()} ${kind} FAILED: ${redact((err as Error).message, [job.sourcePassword])}`,
        );
      }
      const wait = Math.max(0, every * 1000 - (Date.now() - started));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        options.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  };
  const archive = async () => {
    if (logEvery === undefined || !streamsWal) return;
    const dest = jobDestination(job);
    try {
      await archiveWal(job, dest, { everySeconds: logEvery, log: options.log, signal: options.signal });
    } finally {
      dest.client.destroy();
    }
  };
  await Promise.all([archive(), ...kinds.map(([kind, every]) => tick(kind, every))]);
}

// A failover drill with the Automation API: restore the primary's source at the DR site, `pulumi up` the
// DR stack, wait until its target holds every row the primary's source had, and measure the time that took
// (the RTO) and the rows that did not arrive; then fail back the same way in the other direction.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { PROJECT } from "../config";
import { sourceRowCounts, targetRowCounts, type RowCounts } from "./row-counts";
import type { StackSite } from "./stacks";

/** Puts a backup of `from`'s source database in place as `to`'s source database (without CDC). */
export type RestoreSource = (from: StackSite, to: StackSite) => Promise<void>;

/**
 * A restore by shell command, run with FROM_STACK, TO_STACK, FROM_DATABASE and TO_DATABASE in its
 * environment. On the harness: `scripts/services.sh restore-source "$FROM_DATABASE" "$TO_DATABASE"`.
 */
export function commandRestore(command: string, cwd?: string): RestoreSource {
  return async (from, to) => {
    const env = {
      ...process.env,
      FROM_STACK: from.stack.name,
      TO_STACK: to.stack.name,
      FROM_DATABASE: from.settings.source.database,
      TO_DATABASE: to.settings.source.database,
    };
    await promisify(execFile)("bash", ["-c", command], { cwd, env }).catch((err: Error & { stderr?: string }) => {
      throw new Error(`restore command failed: ${command}\n${err.stderr ?? err.message}`);
    });
  };
}

export interface SwitchOptions {
  /** Restores the source at the site being switched to. */
  readonly restore: RestoreSource;
  /** Progress lines: phases and their times; never a secret. */
  readonly log?: (line: string) => void;
  /** The Pulumi CLI's output during `up` (the CLI masks secrets). */
  readonly onOutput?: (text: string) => void;
  /** How long to wait for the target to catch up after `up`. Default: 10 minutes. */
  readonly catchUpTimeoutMs?: number;
}

export interface SwitchReport {
  readonly from: string;
  readonly to: string;
  /** Rows per table in the source that was restored, when the switch began. */
  readonly expected: RowCounts;
  /** Rows per table in the new site's target when the switch ended. */
  readonly arrived: RowCounts;
  /** Rows of `expected` missing from `arrived` (after the catch-up timeout, if it ran out). */
  readonly rowsLost: number;
  /** Seconds per phase: restore, up (the CLI), catchUp (the snapshot reaching the target). */
  readonly phases: { readonly restore: number; readonly up: number; readonly catchUp: number };
  /** Seconds from the start of the restore to the last expected row in the target. */
  readonly rtoSeconds: number;
}

const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const missing = (expected: RowCounts, arrived: RowCounts) =>
  Object.entries(expected).reduce((sum, [table, n]) => sum + Math.max(0, n - (arrived[table] ?? 0)), 0);

/**
 * Switches the pipeline from one site to the other: restores `to`'s source from `from`'s, sets `to`'s
 * `pipeline.rebuild` to a new value (recorded in its stack config: the target is emptied and the source
 * connector's offsets reset, so a snapshot rebuilds the target), runs `pulumi up --refresh` on `to` (the
 * refresh sees the restored source without CDC), then waits for the rows.
 */
export async function switchSite(from: StackSite, to: StackSite, options: SwitchOptions): Promise<SwitchReport> {
  const log = options.log ?? (() => undefined);
  const expected = await sourceRowCounts(from);
  const start = performance.now();
  log(`restoring ${from.stack.name}'s source at ${to.stack.name}`);
  await options.restore(from, to);
  const restore = seconds(start);

  const upStart = performance.now();
  const token = `${from.stack.name}@${new Date().toISOString()}`;
  await to.stack.setConfig(`${PROJECT}:pipeline.rebuild`, { value: token }, true);
  log(`pulumi up --refresh --stack ${to.stack.name} (pipeline.rebuild=${token})`);
  await to.stack.up({ refresh: true, onOutput: options.onOutput });
  const up = seconds(upStart);

  const catchUpStart = performance.now();
  const deadline = catchUpStart + (options.catchUpTimeoutMs ?? 600_000);
  let arrived = await targetRowCounts(to);
  while (missing(expected, arrived) > 0 && performance.now() < deadline) {
    await sleep(500);
    arrived = await targetRowCounts(to);
  }
  const report = {
    from: from.stack.name,
    to: to.stack.name,
    expected,
    arrived,
    rowsLost: missing(expected, arrived),
    phases: { restore, up, catchUp: seconds(catchUpStart) },
    rtoSeconds: seconds(start),
  };
  log(describeSwitch(report));
  return report;
}

export function describeSwitch(r: SwitchReport): string {
  return (
    `${r.from} -> ${r.to}: RTO ${r.rtoSeconds} s (restore ${r.phases.restore} s, pulumi up ${r.phases.up} s, ` +
    `catch-up ${r.phases.catchUp} s), rows lost ${r.rowsLost} of ${Object.values(r.expected).reduce((a, b) => a + b, 0)}`
  );
}

// The operations CLI (`cdc-pipeline`, package.json "bin"): commands that check and operate deployed stacks.
// Exit codes, for every command: 0 all is well, 1 the check found a difference (drift, a mismatch, a missed
// RPO, lost rows), 2 the command could not do its job (an error). Passwords are read from the stacks'
// secret configuration and never printed.
import { readFileSync } from "node:fs";
import { SingleBar } from "cli-progress";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { checkDrift, DRIFT_EXIT, formatDrift } from "./drift";
import { describeSwitch, failBack, runDrill, type FailBackReport, type SwitchReport } from "./drill";
import { describeFence, fenceSite } from "./fence";
import { type ReconcileOptions, type ReconcileReport } from "../lib/reconcile";
import { RECONCILE_EXIT, reconcileSite } from "./reconcile";
import { formatReconcile, formatRepair, REPORT_FORMATS, type ReportFormat } from "./reconcile-format";
import { repairSite } from "./repair";
import { resyncTable } from "./resync";
import { checkRpo, formatRpo, RPO_EXIT, type RpoCheckOptions } from "./rpo";
import { applyConnections, parseConnectionFlags, PASSWORD_ENV, type ConnectionFlags } from "./connection-flags";
import { parseBackupJob, runBackups, stackBackupJob, withoutPasswords, type BackupJob } from "./backup";
import { runSchedule } from "./backup-schedule";
import { restoreSqlServerBackup, sqlServerPointInTime } from "./sqlserver-restore";
import {
  chooseDatabaseBackup,
  formatVerify,
  restoreBackup,
  restoreServer,
  restoreToTime,
  VERIFY_EXIT,
  verifyBackup,
} from "./restore";
import { backupSource, openStack, stackBuckets, type BucketLocation, type StackSite } from "./stacks";
import { BACKUP_KINDS } from "../lib/backup-keys";
import { collectStatus, formatStatus, STATUS_EXIT } from "./status";
import { DEFAULT_RPO_HOURS, watchSchema } from "../config";
import { parseLetterPosition, readDeadLetters } from "../lib/dead-letter";
import { formatDeadLetter, replayStackDeadLetters, stackDeadLetterTopic } from "./dlq";
import { restartPolicyOf, stackWatchTarget, watchConnectors } from "./watch";

const EXIT_ERROR = 2;

const program = new Command("cdc-pipeline")
  // Options after a subcommand are its own (`backup verify --stack`), not its parent's.
  .enablePositionalOptions()
  .description("Operations on deployed cdc-pipeline stacks")
  .exitOverride((err: CommanderError) => {
    // Usage errors (an unknown option, a missing --stack) are errors; --help and --version are not.
    process.exit(err.exitCode === 0 ? 0 : EXIT_ERROR);
  });

const seconds = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} takes a number of seconds >= 0`);
  return n;
};
const count = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} takes a whole number >= 1`);
  return n;
};
const isoTime = (name: string) => (value: string) => {
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at.getTime())) {
    throw new InvalidArgumentError(`${name} takes an ISO 8601 time such as 2026-12-01T14:05:00Z`);
  }
  return at;
};
const cwdOption = () => new Option("--cwd <dir>", "the Pulumi project directory").default(process.cwd());
/** The project as the Automation API sees it: this directory, this process's environment. */
const project = (cwd: string) => ({ workDir: cwd, envVars: process.env as Record<string, string> });

/** The options of a one-stack report command (drift, rpo, status): --stack, --json and --cwd. */
interface ReportOptions {
  stack: string;
  json?: boolean;
  cwd: string;
}
const reportCommand = (name: string, description: string, stackHelp: string) =>
  program
    .command(name)
    .description(description)
    .requiredOption("-s, --stack <name>", stackHelp)
    .option("--json", "print the report as JSON")
    .addOption(cwdOption());

/** Where the backups are: --bucket, else the stack's `backupBucket` output. */
interface BackupOptions {
  bucket?: string;
  s3Endpoint?: string;
}
const backupOptions = (command: Command) =>
  command
    .option("--bucket <name>", "the backup bucket (default: the stack's backupBucket output)")
    .option("--s3-endpoint <url>", "an S3-compatible endpoint instead of AWS (path-style addressing)");

/** The stack's backup bucket (--bucket overrides it); undefined when it has none and none is named. */
async function ownBucket(site: StackSite, options: BackupOptions): Promise<BucketLocation | undefined> {
  const own = (await stackBuckets(site)).backup;
  if (options.bucket) return { bucket: options.bucket, endpoint: options.s3Endpoint ?? own?.endpoint };
  return own && { bucket: own.bucket, endpoint: options.s3Endpoint ?? own.endpoint };
}

const noBucket = (site: StackSite) =>
  `stack ${site.stack.name} has no backup bucket: set backups.bucket (components.backups off) or pass --bucket`;

/** The backup bucket's check settings for a stack; undefined when the stack has no bucket and none is named. */
async function backupCheck(site: StackSite, options: BackupOptions): Promise<RpoCheckOptions | undefined> {
  const at = await ownBucket(site, options);
  if (!at) return undefined;
  return {
    ...backupSource(site, at),
    rpoHours: site.settings.aws?.rpoHours ?? DEFAULT_RPO_HOURS,
    pointInTime:
      site.settings.backups.schedule.log === undefined
        ? undefined
        : {
            stack: site.stack.name,
            engine: site.settings.source.engine,
            logMinutes: site.settings.backups.logRpoMinutes,
          },
  };
}

/** A progress bar on a terminal (tables done); nothing when the output goes to a file or a pipe. */
function progress(total: number): ReconcileOptions["onProgress"] {
  if (!process.stderr.isTTY || total === 0) return undefined;
  const bar = new SingleBar({ format: "reconcile [{bar}] {value}/{total} tables | {table}", stream: process.stderr });
  bar.start(total, 0, { table: "" });
  let done = 0;
  return (event) => {
    if (!event.done) return bar.update(done, { table: `${event.table} (level ${event.level})` });
    bar.update(++done, { table: event.table });
    if (done === total) bar.stop();
  };
}

reportCommand(
  "drift",
  "Fail when live state differs from the program: `pulumi preview --refresh --expect-no-changes`, " +
    "reported per resource and field. Exit 0 clean, 1 drift, 2 error.",
  "the stack to check",
).action(async (options: ReportOptions) => {
  const report = await checkDrift({ stack: options.stack, cwd: options.cwd });
  // Absent values are null in JSON (JSON has no undefined).
  console.log(options.json ? JSON.stringify(report, (_k, v: unknown) => v ?? null, 2) : formatDrift(report));
  process.exitCode = DRIFT_EXIT[report.status];
});

program
  .command("reconcile")
  .description(
    "Compare the stack's source and target tables: row counts and checksums computed inside each database " +
      "over primary-key segments, narrowed down to the missing, extra and changed rows. Exit 0 match, 1 mismatch, 2 error.",
  )
  .requiredOption("-s, --stack <name>", "the stack whose tables to compare, and by default its source and target")
  .addOption(new Option("--format <format>", "output format").choices(REPORT_FORMATS).default("table"))
  .option("--tables <list>", "only these tables (schema.name, comma-separated)", (v) =>
    v.split(",").map((t) => t.trim()),
  )
  .option(
    "--settle <seconds>",
    "re-check differing rows until they match, at most this long (replication lag)",
    seconds("--settle"),
    0,
  )
  .option(
    "--source-url <url>",
    `compare this source instead of the stack's: postgres:// or sqlserver://user@host:port/database (password: $${PASSWORD_ENV.source}; the stack's only for its own source)`,
  )
  .option(
    "--target-url <url>",
    `compare this target instead of the stack's: postgres://user@host:port/database[?schema=s] (password: $${PASSWORD_ENV.target}; the stack's only for its own target)`,
  )
  .addOption(cwdOption())
  .action(
    async (
      options: ConnectionFlags & {
        stack: string;
        format: ReportFormat;
        tables?: string[];
        settle: number;
        cwd: string;
      },
    ) => {
      const overrides = parseConnectionFlags(options);
      const site = applyConnections(await openStack(project(options.cwd), options.stack), overrides);
      const report = await reconcileSite(site, {
        tables: options.tables,
        settleMs: options.settle * 1000,
        onProgress: progress(options.tables?.length ?? site.settings.tables.length),
      });
      console.log(formatReconcile(report, options.format));
      process.exitCode = RECONCILE_EXIT[report.status];
    },
  );

/** A switch's line of the drill's and failback's report. */
const switchLine = (label: string, r: SwitchReport, reconciled: ReconcileReport) =>
  `${label}  ${describeSwitch(r)}; ${r.to} reconciled: ${reconciled.status}`;

/** A command on both sites' stacks (drill, failback): --primary, --dr, --settle, --json, --verbose, --cwd. */
const switchCommand = (name: string, description: string) =>
  program
    .command(name)
    .description(description)
    .requiredOption("--primary <stack>", "the primary site's stack")
    .requiredOption("--dr <stack>", "the DR site's stack")
    .option("--settle <seconds>", "how long reconcile waits for rows in flight", seconds("--settle"), 30)
    .option("--json", "print the report as JSON")
    .option("--verbose", "also print the Pulumi CLI's output")
    .addOption(cwdOption());

/** The options every switch command has. */
interface SwitchCommandOptions {
  primary: string;
  dr: string;
  settle: number;
  json?: boolean;
  verbose?: boolean;
  cwd: string;
}

/** Opens both stacks, and the progress and CLI output of a switch (on stderr: stdout is the report). */
async function switchSites(options: SwitchCommandOptions) {
  return {
    primary: await openStack(project(options.cwd), options.primary),
    dr: await openStack(project(options.cwd), options.dr),
    log: (line: string) => console.error(line),
    onOutput: options.verbose ? (text: string) => process.stderr.write(text) : undefined,
    settleMs: options.settle * 1000,
  };
}

/** The failback's lines of a report: both fences, the switch, and the reconcile when it did not match. */
function printFailBack(back: FailBackReport): void {
  console.log(`fence     ${describeFence(back.fence)}`);
  console.log(`fence     ${describeFence(back.fenceDr)}`);
  console.log(switchLine("failback", back.switched, back.reconciled));
  if (back.reconciled.status !== "match") console.log(formatReconcile(back.reconciled, "table"));
}

switchCommand(
  "drill",
  "A failover drill: optionally cut the primary site off (--cut-primary), restore at the DR site the primary's " +
    "newest database backup in its replica bucket, `pulumi up` the DR stack, wait for every row of that backup, " +
    "check the target against the backup's manifest, reconcile, print the RTO, the RPO (rows and seconds written " +
    "after the backup) and the rows lost beyond it; then bring the primary back (--heal-primary), fence it " +
    "(connectors stopped, source read-only) and fail back through a fresh backup of the DR site. " +
    "Exit 0 no row lost and both sites reconciled, 1 otherwise, 2 error.",
)
  .option("--cut-primary <command>", "a shell command that cuts the primary site off before the failover")
  .option("--heal-primary <command>", "a shell command that brings the primary site back before the failback")
  .option("--no-failback", "stay on the DR site")
  .option("--force", "drill even though the DR site already serves writes")
  .action(
    async (
      options: SwitchCommandOptions & { cutPrimary?: string; healPrimary?: string; failback: boolean; force?: boolean },
    ) => {
      const { primary, dr, ...switchOptions } = await switchSites(options);
      const report = await runDrill(primary, dr, { ...options, ...switchOptions });
      if (options.json) {
        console.log(JSON.stringify(report, null, 2));
      } else {
        console.log(switchLine("failover", report.failover, report.drReconciled));
        if (report.drReconciled.status !== "match") console.log(formatReconcile(report.drReconciled, "table"));
        if (report.failback) printFailBack(report.failback);
      }
      process.exitCode = report.ok ? 0 : 1;
    },
  );

program
  .command("fence")
  .description(
    "Fence an old primary that came back after a failover, before anything else: stop its connectors and make " +
      "its source database read-only (its sessions ended). Idempotent. A failback's restore lifts it.",
  )
  .requiredOption("-s, --stack <name>", "the old primary's stack")
  .option("--json", "print the report as JSON")
  .addOption(cwdOption())
  .action(async (options: { stack: string; json?: boolean; cwd: string }) => {
    const report = await fenceSite(await openStack(project(options.cwd), options.stack));
    console.log(options.json ? JSON.stringify(report, null, 2) : describeFence(report));
  });

switchCommand(
  "failback",
  "Fail back to the primary site once it is back: fence it, fence the DR site (so its backup holds its last " +
    "write), back the DR site up, restore that backup at the primary, `pulumi up` the primary stack (its target " +
    "rebuilt), check it against the backup's manifest and reconcile. Exit 0 no row lost and reconciled, 1 " +
    "otherwise, 2 error.",
).action(async (options: SwitchCommandOptions) => {
  const { primary, dr, ...switchOptions } = await switchSites(options);
  const back = await failBack(primary, dr, switchOptions);
  if (options.json) console.log(JSON.stringify(back, null, 2));
  else printFailBack(back);
  process.exitCode = back.ok ? 0 : 1;
});

backupOptions(
  reportCommand(
    "rpo",
    "Check the newest backup of each kind (database/, files/, config/) against the stack's aws.rpoHours, and " +
      "the bucket's versioning, lifecycle and replication with RTC. Exit 0 met, 1 missed, 2 error.",
    "the stack whose backups to check",
  ),
).action(async (options: BackupOptions & ReportOptions) => {
  const site = await openStack(project(options.cwd), options.stack);
  const check = await backupCheck(site, options);
  if (!check) throw new Error(noBucket(site));
  const report = await checkRpo(check);
  console.log(options.json ? JSON.stringify(report, null, 2) : formatRpo(report));
  process.exitCode = RPO_EXIT[report.status];
});

backupOptions(
  reportCommand(
    "status",
    "The pipeline on one screen: connectors and tasks, CDC on the source, target row counts, newest backups. " +
      "Exit 0 all running, 1 something is not running or not in place, 2 a part could not be read.",
    "the stack to show",
  ),
).action(async (options: BackupOptions & ReportOptions) => {
  const site = await openStack(project(options.cwd), options.stack);
  const report = await collectStatus(site, { backups: () => backupCheck(site, options) });
  console.log(options.json ? JSON.stringify(report, null, 2) : formatStatus(report));
  process.exitCode = STATUS_EXIT[report.status];
});

/** The stack's backup bucket (--bucket overrides it); an error naming the way out when it has none. */
async function backupBucket(site: StackSite, options: BackupOptions): Promise<BucketLocation> {
  const at = await ownBucket(site, options);
  if (!at) throw new Error(noBucket(site));
  return at;
}

/** The stack's backup job, with its bucket. */
async function backupJob(site: StackSite, options: BackupOptions): Promise<BackupJob> {
  return stackBackupJob(site, await backupBucket(site, options));
}

/** Each kind a backup can be taken of on its own (a PostgreSQL source's WAL is archived by `backup schedule`). */
const ONE_SHOT_KINDS = [...BACKUP_KINDS, "base", "log", "target"] as const;
const kindOption = new Option(
  "--kind <kind>",
  "what to back up (base: a physical base backup, for --at; log: a SQL Server log backup, for --at; " +
    "target: the target database, on request)",
)
  .choices([...ONE_SHOT_KINDS, "all"])
  .default("all");

const backup = backupOptions(
  program
    .command("backup")
    .enablePositionalOptions()
    .description(
      "Back up the stack's source database (pg_dump in its own snapshot, streamed to a multipart upload), its " +
        "configuration (connectors, offsets, CDC facts; no secret) and its backups.files, each with a manifest. " +
        "Exit 0 done, 2 error.",
    )
    // Not a required option: commander would then demand it of `backup verify` too, before its own.
    .option("-s, --stack <name>", "the stack to back up (required)")
    .addOption(kindOption)
    .option("--json", "print the manifests as JSON")
    .addOption(cwdOption()),
).action(async (options: BackupOptions & ReportOptions & { kind: (typeof ONE_SHOT_KINDS)[number] | "all" }) => {
  if (!options.stack) program.error("error: required option '-s, --stack <name>' not specified");
  const site = await openStack(project(options.cwd), options.stack);
  const kinds =
    options.kind === "all"
      ? BACKUP_KINDS.filter((k) => k !== "files" || site.settings.backups.files.length > 0)
      : [options.kind];
  const job = await backupJob(site, options);
  const manifests = await runBackups(job, kinds);
  if (options.json) console.log(JSON.stringify(manifests, null, 2));
  else
    for (const m of manifests)
      console.log(`${m.kind}: s3://${job.backups.bucket}/${m.key} (${m.size} bytes, ${m.seconds} s)`);
});

backupOptions(
  backup
    .command("verify")
    .description(
      "Restore a database backup into a scratch database, compare row counts and hashes with its manifest, drop " +
        "it, and record the result under verify/ in the bucket. Exit 0 match, 1 mismatch, 2 could not run.",
    )
    .requiredOption("-s, --stack <name>", "the stack whose backup to verify")
    .option("--object <key>", "the backup object (default: the newest database backup)")
    .option("--json", "print the report as JSON")
    .addOption(cwdOption()),
).action(async (options: BackupOptions & ReportOptions & { object?: string }) => {
  const site = await openStack(project(options.cwd), options.stack);
  const source = backupSource(site, await backupBucket(site, options));
  const manifest = await chooseDatabaseBackup(source, options.object);
  const report = await verifyBackup(site, restoreServer(site), source, manifest);
  console.log(options.json ? JSON.stringify(report, null, 2) : formatVerify(report));
  process.exitCode = VERIFY_EXIT[report.status];
});

backup
  .command("job")
  .description(
    "Print the stack's backup job as JSON (no password in it): the file `backup schedule --job` runs from, " +
      "on a host that has no stack passphrase.",
  )
  .requiredOption("-s, --stack <name>", "the stack whose backup job to print")
  .addOption(cwdOption())
  .action(async (options: { stack: string; cwd: string }) => {
    const job = withoutPasswords(await backupJob(await openStack(project(options.cwd), options.stack), {}));
    console.log(JSON.stringify(job, null, 2));
  });

backup
  .command("schedule")
  .description(
    "Run the backups of backups.schedule, each kind every so many seconds, until stopped (SIGTERM, SIGINT). " +
      "A failed backup is logged and tried again at its next tick. From a stack (--stack), or from a job file " +
      "(--job, as the backup container runs it: the source password in CDC_SOURCE_PASSWORD, the bucket's " +
      "credentials the AWS SDK's usual ones; no stack passphrase).",
  )
  .option("-s, --stack <name>", "the stack whose backups to schedule")
  .option("--job <file>", "a backup job file (JSON) instead of a stack")
  .addOption(cwdOption())
  .action(async (options: { stack?: string; job?: string; cwd: string }) => {
    if (!options.stack === !options.job) program.error("error: backup schedule takes one of --stack or --job");
    const job = options.job
      ? parseBackupJob(JSON.parse(readFileSync(options.job, "utf8")), process.env)
      : await backupJob(await openStack(project(options.cwd), options.stack!), {});
    const stop = new AbortController();
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => stop.abort());
    console.log(
      `scheduling ${JSON.stringify(job.backups.schedule)} (seconds) for ${job.stack} into s3://${job.backups.bucket}`,
    );
    await runSchedule(job, { log: (line: string) => console.log(line), signal: stop.signal });
  });

program
  .command("restore")
  .description(
    "Restore a database backup onto the stack's source server as --to-database: the newest one (on a DR stack, " +
      "from the primary's replica bucket), checked against its manifest before anything is written. Exit 0 " +
      "restored, 2 error.",
  )
  .requiredOption("-s, --stack <name>", "the stack whose source server to restore onto")
  .requiredOption("--to-database <name>", "the database to restore into (created; refused when not empty)")
  .option(
    "--from-bucket <name>",
    "one of the stack's buckets (default: restoreFromBucket on a DR stack, else backupBucket)",
  )
  .option("--object <key>", "the backup object (default: the newest database backup)")
  .addOption(
    new Option("--at <time>", "as the source was at this time (ISO 8601): a base backup replayed with the archived WAL")
      .argParser(isoTime("--at"))
      .conflicts("object"),
  )
  .option("--replace", "drop --to-database first when it is not empty")
  .addOption(cwdOption())
  .action(
    async (options: {
      stack: string;
      toDatabase: string;
      fromBucket?: string;
      object?: string;
      at?: Date;
      replace?: boolean;
      cwd: string;
    }) => {
      const site = await openStack(project(options.cwd), options.stack);
      const buckets = await stackBuckets(site);
      const owned = [buckets.restoreFrom, buckets.backup, buckets.replica].filter((b): b is BucketLocation => !!b);
      const from = options.fromBucket ? owned.find((b) => b.bucket === options.fromBucket) : owned[0];
      if (!from) {
        throw new Error(
          options.fromBucket
            ? `--from-bucket ${options.fromBucket} is not a bucket of stack ${site.stack.name} (its buckets: ${owned.map((b) => b.bucket).join(", ") || "none"})`
            : `stack ${site.stack.name} has no bucket to restore from: set backups.bucket or failover.primaryStack`,
        );
      }
      const source = backupSource(site, from);
      const server = restoreServer(site);
      if (options.at) {
        // A DR stack restores the primary's backups: the log is archived under the primary's stack name.
        const primary = site.settings.failover?.primaryStack.split("/").pop();
        const stack = from === buckets.restoreFrom && primary ? primary : site.stack.name;
        if (server.engine === "sqlserver") {
          const plan = await sqlServerPointInTime(source, stack, options.at);
          await restoreSqlServerBackup(server, source, plan, options.toDatabase, { replace: options.replace });
          console.log(
            `restored ${plan.full.key} and ${plan.logs.length} log backup(s) to ${options.at.toISOString()} as ${options.toDatabase}`,
          );
          return;
        }
        const done = await restoreToTime(server.connection, source, stack, options.at, options.toDatabase, {
          replace: options.replace,
        });
        console.log(
          `restored ${done.base.key} replayed with ${done.segments} WAL segment(s) to ${done.at} as ${options.toDatabase}`,
        );
        return;
      }
      const manifest = await chooseDatabaseBackup(source, options.object);
      await restoreBackup(server, source, manifest, options.toDatabase, { replace: options.replace });
      console.log(
        `restored s3://${from.bucket}/${manifest.key} (taken ${manifest.takenAt}, position ${manifest.source?.position}) as ${options.toDatabase}`,
      );
    },
  );

/** Options of the commands that snapshot through the source connector (resync, repair). */
interface SnapshotCommandOptions {
  stack: string;
  timeout: number;
  settle: number;
  json?: boolean;
  cwd: string;
}
const snapshotCommand = (name: string, description: string) =>
  program
    .command(name)
    .description(description)
    .requiredOption("-s, --stack <name>", "the stack whose pipeline to use")
    .option(
      "--timeout <seconds>",
      "how long to wait for the connector's notification that the snapshot finished",
      seconds("--timeout"),
      3600,
    )
    .option("--settle <seconds>", "how long each reconcile waits for rows in flight", seconds("--settle"), 60)
    .option("--json", "print the report as JSON")
    .addOption(cwdOption());

snapshotCommand(
  "resync",
  "Read one table again from the source while streaming goes on: a Debezium incremental snapshot, optionally of " +
    "the rows --where selects; once the connector notifies that it finished, reconcile the table. " +
    "Exit 0 the table matches, 1 it differs, 2 error.",
)
  .requiredOption("--table <schema.name>", "the table to resync (one of the stack's tables)")
  .option("--where <condition>", "only the rows this SQL condition on the source table selects")
  .action(async (options: SnapshotCommandOptions & { table: string; where?: string }) => {
    const site = await openStack(project(options.cwd), options.stack);
    const report = await resyncTable(site, {
      table: options.table,
      where: options.where,
      timeoutMs: options.timeout * 1000,
      settleMs: options.settle * 1000,
      log: (line) => console.error(line),
    });
    if (options.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(
        `resync   ${report.table}: ${report.scan.rows} rows read (${report.scan.status}, signal ${report.signal})`,
      );
      console.log(formatReconcile(report.reconciled, "table"));
    }
    process.exitCode = RECONCILE_EXIT[report.reconciled.status];
  });

snapshotCommand(
  "repair",
  "Put right what reconcile finds while streaming goes on: missing and changed keys are read again from the " +
    "source (an incremental snapshot of those keys), extra keys are deleted from the target; then reconcile. " +
    "Refuses to touch more than --max-keys keys without --force. Exit 0 the target matches (after the repair), " +
    "1 it differs (or a dry run found differences), 2 error.",
)
  .option("--table <schema.name>", "only this table (default: every table of the stack)")
  .option("--dry-run", "report what would be done, and change nothing")
  .option("--max-keys <n>", "the most keys to touch without --force", count("--max-keys"), 1000)
  .option("--force", "repair however many keys differ")
  .action(
    async (
      options: SnapshotCommandOptions & { table?: string; dryRun?: boolean; maxKeys: number; force?: boolean },
    ) => {
      const site = await openStack(project(options.cwd), options.stack);
      const report = await repairSite(site, {
        table: options.table,
        dryRun: options.dryRun ?? false,
        maxKeys: options.maxKeys,
        force: options.force ?? false,
        timeoutMs: options.timeout * 1000,
        settleMs: options.settle * 1000,
        log: (line) => console.error(line),
      });
      if (options.json) console.log(JSON.stringify(report, null, 2));
      else console.log(formatRepair(report, options.dryRun ?? false));
      process.exitCode = RECONCILE_EXIT[report.status];
    },
  );

const dlq = program
  .command("dlq")
  .description("The sink's dead-letter topic: records the sink could not convert or transform, with why.");
const dlqCommand = (name: string, description: string) =>
  dlq
    .command(name)
    .description(description)
    .requiredOption("-s, --stack <name>", "the stack whose dead-letter topic to read")
    .addOption(cwdOption());

dlqCommand("list", "List the dead letters, oldest first: position, time, failed stage, error, source record.")
  .option("--limit <n>", "at most this many", count("--limit"), 100)
  .action(async (options: { stack: string; cwd: string; limit: number }) => {
    const site = await openStack(project(options.cwd), options.stack);
    const topic = stackDeadLetterTopic(site);
    const letters = await readDeadLetters(topic, { limit: options.limit });
    if (letters.length === 0) console.log(`${topic.topic}: no dead letters`);
    for (const letter of letters) console.log(formatDeadLetter(letter));
  });

dlqCommand("show", "Show one dead letter whole: its error context, stack trace, key and value.")
  .argument("<position>", "offset, or partition/offset, as list prints it")
  .action(async (position: string, options: { stack: string; cwd: string }) => {
    const from = parseLetterPosition(position);
    const site = await openStack(project(options.cwd), options.stack);
    const [letter] = await readDeadLetters(stackDeadLetterTopic(site), { from, limit: 1 });
    console.log(formatDeadLetter(letter));
    for (const [field, value] of Object.entries(letter.context)) console.log(`  ${field}: ${String(value)}`);
    console.log(`  key: ${letter.key?.toString() ?? "(none)"}`);
    console.log(`  value: ${letter.value?.toString() ?? "(none)"}`);
  });

dlqCommand(
  "replay",
  "Write the dead letters again to the topic each came from (or --to-topic), once the cause is fixed.",
)
  .option("--from <position>", "the first to replay (default: the oldest)")
  .option("--limit <n>", "at most this many", count("--limit"), 10_000)
  .option("--to-topic <topic>", "write them to this topic instead (one the stack's sink reads)")
  .action(async (options: { stack: string; cwd: string; from?: string; limit: number; toTopic?: string }) => {
    const from = options.from === undefined ? undefined : parseLetterPosition(options.from);
    const site = await openStack(project(options.cwd), options.stack);
    const result = await replayStackDeadLetters(site, { from, limit: options.limit, toTopic: options.toTopic });
    console.log(
      `replayed ${result.replayed} dead letter(s)${result.topics.length ? ` to ${result.topics.join(", ")}` : ""}`,
    );
  });

program
  .command("watch")
  .description(
    "Restart the stack's FAILED connectors and tasks between deploys, with a backoff (at once, then 2, 6, 12, 20 ... " +
      "units), giving up after --max-restarts in a row; serve metrics; stop on SIGTERM. Never changes a configuration. " +
      "Defaults: the stack's watch settings.",
  )
  .option("-s, --stack <name>", "the stack whose connectors to watch")
  .option("--connect-url <url>", "instead of --stack: the Connect REST API (the watch container's)")
  .option("--connector <name...>", "with --connect-url: the connectors to watch")
  .option("--interval <seconds>", "time between status checks (default 30)", seconds("--interval"))
  .option("--unit <seconds>", "the backoff's time unit (default 60)", seconds("--unit"))
  .option("--max-restarts <n>", "restarts in a row before giving up (default 7)", count("--max-restarts"))
  .option("--healthy <units>", "how long healthy before the count resets (default 10)", count("--healthy"))
  .option("--metrics-port <port>", "serve GET /metrics on this port (default 9404)", count("--metrics-port"))
  .addOption(cwdOption())
  .action(
    async (options: {
      stack?: string;
      connectUrl?: string;
      connector?: string[];
      cwd: string;
      interval?: number;
      unit?: number;
      maxRestarts?: number;
      healthy?: number;
      metricsPort?: number;
    }) => {
      if ((options.stack === undefined) === (options.connectUrl === undefined)) {
        throw new Error("watch: give --stack, or --connect-url with --connector (one of the two)");
      }
      if (options.connectUrl !== undefined && !options.connector?.length) {
        throw new Error("watch: --connect-url needs --connector, the connectors to watch");
      }
      const site = options.stack === undefined ? undefined : await openStack(project(options.cwd), options.stack);
      const target = site
        ? stackWatchTarget(site)
        : { url: options.connectUrl!, connectors: options.connector!, secrets: [] };
      const settings = site?.settings.watch ?? watchSchema.parse({});
      const stop = new AbortController();
      for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => stop.abort());
      await watchConnectors(target, {
        intervalMs: (options.interval ?? settings.intervalSeconds) * 1000,
        policy: restartPolicyOf({
          ...settings,
          unitSeconds: options.unit ?? settings.unitSeconds,
          maxRestarts: options.maxRestarts ?? settings.maxRestarts,
          healthyUnits: options.healthy ?? settings.healthyUnits,
        }),
        metricsPort: options.metricsPort ?? settings.metricsPort,
        log: (line) => console.error(line),
        signal: stop.signal,
        // The watch container (--connect-url) starts before the first `pulumi up` has created the connectors.
        requireConnectors: site !== undefined,
      });
    },
  );

program.parseAsync().catch((err: Error) => {
  console.error(`cdc-pipeline: ${err.message}`);
  process.exitCode = EXIT_ERROR;
});

// The operations CLI: commands that check and operate a deployed stack. Exit codes: 0 all is well,
// 1 the check found a difference (drift), 2 the command could not do its job (an error).
import { Command, CommanderError } from "commander";
import { checkDrift, DRIFT_EXIT, formatDrift } from "./drift";

const EXIT_ERROR = 2;

const program = new Command("cdc-pipeline")
  .description("Operations on a deployed cdc-pipeline stack")
  .exitOverride((err: CommanderError) => {
    // Usage errors (an unknown option, a missing --stack) are errors; --help and --version are not.
    process.exit(err.exitCode === 0 ? 0 : EXIT_ERROR);
  });

program
  .command("drift")
  .description(
    "Fail when live state differs from the program: `pulumi preview --refresh --expect-no-changes`, " +
      "reported per resource and field. Exit 0 clean, 1 drift, 2 error.",
  )
  .requiredOption("-s, --stack <name>", "the stack to check")
  .option("--json", "print the report as JSON")
  .option("--cwd <dir>", "the Pulumi project directory", process.cwd())
  .action(async (options: { stack: string; json?: boolean; cwd: string }) => {
    const report = await checkDrift({ stack: options.stack, cwd: options.cwd });
    // Absent values are null in JSON (JSON has no undefined).
    console.log(options.json ? JSON.stringify(report, (_k, v: unknown) => v ?? null, 2) : formatDrift(report));
    process.exitCode = DRIFT_EXIT[report.status];
  });

program.parseAsync().catch((err: Error) => {
  console.error(`cdc-pipeline: ${err.message}`);
  process.exitCode = EXIT_ERROR;
});

// Runs the project's scripts (and through scripts/pulumi.sh the real Pulumi CLI) as a user would, against
// a private file backend so that the user's own stacks are left alone.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { expect } from "vitest";
import { pulumiEnv, PROJECT_DIR } from "../harness";

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class PrivateBackend {
  readonly dir = mkdtempSync(path.join(tmpdir(), "cdc-e2e-state-"));
  /** Everything every command printed, to check that no secret was. */
  readonly transcript: string[] = [];

  /** Runs scripts/<script> with the backend's URL in the environment. */
  script(script: string, ...args: string[]): RunResult {
    const result = spawnSync("bash", [path.join(PROJECT_DIR, "scripts", script), ...args], {
      encoding: "utf8",
      env: { ...process.env, PULUMI_BACKEND_URL: `file://${this.dir}` },
      timeout: 600_000,
    });
    this.transcript.push(result.stdout, result.stderr);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** scripts/<script> as `script` runs it, without blocking this process (a test works on while it runs). */
  scriptAsync(script: string, ...args: string[]): Promise<RunResult> {
    return this.start(script, ...args).done;
  }

  /**
   * scripts/<script> started: the process (a test signals it), what it has printed so far, and its end.
   * harness-env.sh execs its command, so the process is the command itself.
   */
  start(script: string, ...args: string[]): { child: ChildProcess; output: () => string; done: Promise<RunResult> } {
    const child = spawn("bash", [path.join(PROJECT_DIR, "scripts", script), ...args], {
      env: { ...process.env, PULUMI_BACKEND_URL: `file://${this.dir}` },
      timeout: 600_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<RunResult>((resolve) =>
      child.on("close", (status) => {
        this.transcript.push(stdout, stderr);
        resolve({ status, stdout, stderr });
      }),
    );
    return { child, output: () => stdout + stderr, done };
  }

  pulumi(...args: string[]): RunResult {
    return this.script("pulumi.sh", ...args);
  }

  /** Runs the CLI and expects exit 0; returns its standard output. */
  ok(...args: string[]): string {
    const result = this.pulumi(...args);
    expect(result.status, `pulumi ${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result.stdout;
  }

  /** Sets `cdc-pipeline:<key>` in the local stack's file with `config set --path`, as an operator would. */
  setLocal(key: string, value: string): void {
    this.ok("config", "set", "--stack", "local", "--path", `cdc-pipeline:${key}`, value);
  }

  /** `pulumi up` of the local stack, without the preview. */
  upLocal(): RunResult {
    return this.pulumi("up", "--stack", "local", "--yes", "--skip-preview");
  }

  /** The drift check of the local stack, as CI runs it (exit 1: drift). */
  driftLocal(): RunResult {
    return this.script("harness-env.sh", "npm", "run", "-s", "drift", "--", "--stack", "local");
  }

  /** Every file of the backend (state, backups, history) as one text. */
  files(): string {
    const files = readdirSync(this.dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    return files.map((f) => readFileSync(path.join(f.parentPath, f.name), "utf8")).join("\n");
  }

  /** The CLI's environment with this backend, for the Automation API. */
  env(): Record<string, string> {
    return pulumiEnv(`file://${this.dir}`);
  }

  /** Destroys the stacks (those that exist) and removes the backend. */
  dispose(stacks: string[] = ["local"]): void {
    for (const stack of stacks) this.pulumi("destroy", "--stack", stack, "--yes");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// The scripts README.md tells its readers to run directly (`scripts/harness-env.sh npm run drift -- ...`):
// each must exist and be executable in git (mode 100755), or a fresh clone answers "Permission denied".
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");

/** Where a command starts in shell text: the beginning, after `$(`, `;`, `&&`, `||` or `|`. */
const COMMAND = /(?:^|\$\(|[;&|])\s*(?:\.\/)?(scripts\/[\w./-]+)(?=$|[\s)"';&|])/gm;

/**
 * The `scripts/...` paths the README runs as commands (not through `bash`): in fenced code blocks, at a
 * command's position; in inline code, at a command's position and followed by arguments or inside `$(...)`,
 * so that a mere mention of a file (`scripts/test.sh`) or a directory is not one.
 */
function invokedScripts(markdown: string): string[] {
  const found = new Set<string>();
  const prose: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      for (const m of line.matchAll(COMMAND)) found.add(m[1]);
    } else {
      prose.push(line);
    }
  }
  // Inline code may wrap over a line break.
  for (const span of prose.join("\n").matchAll(/`([^`]+)`/g)) {
    const code = span[1].replace(/\s*\n\s*/g, " ");
    for (const m of code.matchAll(COMMAND)) {
      const after = code.slice((m.index ?? 0) + m[0].length);
      if (/^\s+\S/.test(after) || m[0].includes("$(")) found.add(m[1]);
    }
  }
  return [...found].sort();
}

/** The file's mode in git's index (100644, 100755), or undefined when git does not track it. */
function gitMode(file: string): string | undefined {
  const out = execFileSync("git", ["ls-files", "-s", "--", file], { cwd: ROOT, encoding: "utf8" });
  return out.trim() === "" ? undefined : out.split(/\s/)[0];
}

describe("README commands", () => {
  it("finds commands in code blocks and inline code, not mentions of files or scripts run by bash", () => {
    const markdown = [
      'Run `scripts/a.sh --flag` or `eval "$(scripts/b.sh env)"`; `scripts/mention.sh` is a file, and',
      "`scripts/wrapped.sh npm run",
      "x` wraps. `bash scripts/by-bash.sh x` needs no mode. [link](scripts/link.sh)",
      "```bash",
      "scripts/c.sh up   # and `scripts/d.sh` is a comment",
      "cd x && scripts/e.sh",
      "  --restore-command 'bash scripts/f.sh \"$A\"'",
      "```",
    ].join("\n");
    expect(invokedScripts(markdown)).toEqual([
      "scripts/a.sh",
      "scripts/b.sh",
      "scripts/c.sh",
      "scripts/e.sh",
      "scripts/wrapped.sh",
    ]);
  });

  const scripts = invokedScripts(readFileSync(path.join(ROOT, "README.md"), "utf8"));

  it("finds the harness's scripts in README.md", () => {
    expect(scripts).toEqual(
      expect.arrayContaining(["scripts/harness-env.sh", "scripts/pulumi.sh", "scripts/services.sh"]),
    );
  });

  it.each(scripts)("%s exists and is executable in git (100755) and in the work tree", (script) => {
    expect(gitMode(script), `${script} is not tracked by git`).toBeDefined();
    expect(gitMode(script), `${script}: git update-index --chmod=+x ${script}`).toBe("100755");
    expect(statSync(path.join(ROOT, script)).mode & 0o111, `${script}: chmod +x ${script}`).not.toBe(0);
  });
});

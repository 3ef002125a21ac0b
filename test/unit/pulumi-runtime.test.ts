// How Pulumi runs the program: transpiled from the tsconfig Pulumi.yaml names, type-checked by `npm test` alone.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import * as ts from "typescript";
import { expect, it } from "vitest";
import { PROJECT_DIR } from "../harness";

const readTsconfig = (file: string) =>
  ts.parseConfigFileTextToJson(file, readFileSync(path.join(PROJECT_DIR, file), "utf8")).config as {
    extends?: string;
    compilerOptions: Record<string, unknown>;
  };

it("Pulumi.yaml runs the program from a tsconfig that skips the type check and otherwise is tsc's", () => {
  const project = load(readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as {
    runtime: { options: { typescript: boolean; tsconfig: string } };
  };
  const { tsconfig } = project.runtime.options;
  // The SDK's runner reads `noCheck` from that file's own compilerOptions, not from the one it extends.
  expect(readTsconfig(tsconfig)).toEqual({ extends: "./tsconfig.json", compilerOptions: { noCheck: true } });
  expect(readTsconfig("tsconfig.json").compilerOptions.noCheck).toBeUndefined();
});

it("the harness's CLI, whose Node.js host ignores that option, transpiles only too, unless the caller says otherwise", () => {
  const { PULUMI_NODEJS_TRANSPILE_ONLY: _callers, ...unset } = process.env;
  const transpileOnly = (env: NodeJS.ProcessEnv) =>
    execFileSync(
      "bash",
      ["-c", "source scripts/lib/common.sh && source scripts/lib/pulumi-env.sh && echo $PULUMI_NODEJS_TRANSPILE_ONLY"],
      {
        cwd: PROJECT_DIR,
        env,
        encoding: "utf8",
      },
    ).trim();
  expect(transpileOnly(unset)).toBe("true");
  expect(transpileOnly({ ...unset, PULUMI_NODEJS_TRANSPILE_ONLY: "false" })).toBe("false");
});

// PostgresServer's state versions: a state de520ab wrote (test/fixtures/state-v1-local.json) reads as the
// current shape, and diffs as unchanged against the inputs today's program gives for the same server.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { dropUndeclaredKeys, postgresServerProvider } from "../../providers/postgres-server";

interface Exported {
  deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] };
}
const fixture = JSON.parse(readFileSync(path.join(__dirname, "../fixtures/state-v1-local.json"), "utf8")) as Exported;
/** The fixture's source server state, its encrypted password replaced by a plain one. */
const v1State = (): Record<string, unknown> => {
  const found = fixture.deployment.resources.find(
    (r) => r.type.endsWith(":PostgresServer") && r.outputs?.port === 55432,
  );
  return { ...found!.outputs, password: "pw" };
};

describe("PostgresServer state versions", () => {
  it("version 1 to 2 drops the keys de520ab's program leaked into the state", () => {
    const v1 = v1State();
    expect(v1).toHaveProperty("engine", "postgres");
    const v2 = dropUndeclaredKeys(v1);
    expect(Object.keys(v2).sort()).toEqual(
      ["database", "host", "password", "port", "requiredSettings", "serverVersion", "settings", "user"].sort(),
    );
    expect(v2.settings).toEqual(v1.settings);
  });

  it("a version-1 state diffs as unchanged against today's inputs, but for its rewrite", async () => {
    const v1 = v1State();
    const inputs = { host: "127.0.0.1", port: 55432, database: "cdc_source", user: "postgres", password: "pw" };
    const { inputs: checked } = await postgresServerProvider.check({} as never, {
      ...inputs,
      requiredSettings: v1.requiredSettings as Record<string, string>,
    });
    const current = { ...dropUndeclaredKeys(v1), providerVersion: 2, __provider: "shim" };
    expect(
      (await postgresServerProvider.diff("s", current as never, { ...checked!, __provider: "shim" } as never)).changes,
    ).toBe(false);
    expect((await postgresServerProvider.diff("s", { ...v1, __provider: "shim" } as never, checked!)).changes).toBe(
      true,
    );
    // The rewrite is all: no connection (the password is wrong for the harness, the host never dialled).
    const { outs } = await postgresServerProvider.update("s", { ...v1, host: "192.0.2.1" } as never, {
      ...checked!,
      host: "192.0.2.1",
    });
    expect(outs).toMatchObject({ providerVersion: 2, serverVersion: v1.serverVersion });
    expect(outs).not.toHaveProperty("engine");
  });
});

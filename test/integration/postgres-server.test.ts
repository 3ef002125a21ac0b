// The PostgresServer provider's methods against the harness's real PostgreSQL clusters.
import { Client } from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { postgresServerProvider as provider, type PostgresServerInputs } from "../../providers/postgres-server";
import { harness } from "../harness";

const source: PostgresServerInputs = {
  ...harness.source,
  password: harness.pgPassword,
  requiredSettings: { wal_level: "logical" },
};
const target: PostgresServerInputs = {
  ...harness.target,
  password: harness.pgPassword,
  requiredSettings: { work_mem: "4096" },
};

async function onTarget(sql: string): Promise<void> {
  const client = new Client({ ...harness.target, password: harness.pgPassword });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

afterAll(() => onTarget(`ALTER DATABASE ${harness.target.database} RESET work_mem`));

describe("PostgresServer provider", () => {
  it("create reports the server version and the required settings", async () => {
    const { id, outs } = await provider.create(source);
    expect(id).toBe(`127.0.0.1:${harness.source.port}/cdc_source`);
    expect(outs?.serverVersion).toMatch(/^15\./);
    expect(outs?.settings).toEqual({ wal_level: "logical" });
  });

  it("create fails when a required setting differs, naming the setting and both values", async () => {
    await expect(provider.create({ ...source, requiredSettings: { wal_level: "replica" } })).rejects.toThrow(
      "wal_level is 'logical', must be 'replica'",
    );
  });

  it("a wrong password fails without the password in the message", async () => {
    const wrong = "wrong-password-do-not-print";
    const message = await provider.create({ ...source, password: wrong }).then(
      () => "created",
      (err: Error) => err.message,
    );
    expect(message).toMatch(/password authentication failed for user "postgres"/);
    expect(message).not.toContain(wrong);
    expect(message).not.toContain(harness.pgPassword);
  });

  it("a setting changed by hand is read back and shows as drift; update then fails clearly", async () => {
    const { id, outs } = await provider.create(target);
    expect((await provider.diff(id, outs!, target)).changes).toBe(false);
    await onTarget(`ALTER DATABASE ${harness.target.database} SET work_mem = '8MB'`);
    const read = await provider.read(id, outs);
    expect(read.props?.settings).toEqual({ work_mem: "8192" });
    expect((await provider.diff(id, read.props!, target)).changes).toBe(true);
    await expect(provider.update(id, read.props!, target)).rejects.toThrow("work_mem is '8192', must be '4096'");
    await onTarget(`ALTER DATABASE ${harness.target.database} RESET work_mem`);
    expect((await provider.update(id, read.props!, target)).outs?.settings).toEqual({ work_mem: "4096" });
  });

  it("diff replaces on another server, updates in place on another user; check names bad fields", async () => {
    const { id, outs } = await provider.create(source);
    expect(await provider.diff(id, outs!, { ...source, port: 1 })).toMatchObject({
      changes: true,
      replaces: ["port"],
    });
    expect(await provider.diff(id, outs!, { ...source, user: "other" })).toMatchObject({
      changes: true,
      replaces: [],
    });
    const checked = await provider.check({} as PostgresServerInputs, { ...source, port: 0, host: "" });
    expect(checked.failures?.map((f) => f.property)).toEqual(["host", "port"]);
    await provider.delete(id, outs!);
  });
});

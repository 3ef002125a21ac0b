// The SourceBackfill provider's input checks and diff, which need no database: what makes `up` backfill.
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import { sourceBackfillProvider as provider, type SourceBackfillState } from "../../providers/source-backfill";

const connection = { host: "unreachable.invalid", port: 5432, database: "db", user: "u", password: "p" };
const table = (name: string) => ({
  schema: "inventory",
  name,
  columns: [{ name: "id", type: "integer" }],
  primaryKey: ["id"],
});
const given = {
  source: { ...connection, engine: "postgres" },
  target: { ...connection, schema: "inventory" },
  signalTable: { schema: "inventory", name: "signal" },
  notifications: { bootstrapServers: "127.0.0.1:9092", topic: "local.notifications" },
  tables: [table("customers")],
  resumeToken: "local_slot@0/16B3748",
};

const check = (news: Record<string, unknown>) => provider.check({} as never, news as never);
/** The state `create` records for `given`: a new pipeline's create touches no server. */
const deployed = async () => (await provider.create((await check(given)).inputs!)).outs as SourceBackfillState;
const changes = async (news: Record<string, unknown>) =>
  (await provider.diff("b", await deployed(), (await check(news)).inputs!)).changes;

describe("SourceBackfill check", () => {
  it("names the engine it wants for the source", async () => {
    const { failures } = await check({ ...given, source: { ...connection, engine: "oracle" } });
    expect(failures?.map((f) => f.property)).toEqual(["source"]);
    expect(failures?.[0].reason).toMatch(/"postgres" or "sqlserver", got 'oracle'/);
  });

  it("names a table without a key", async () => {
    const { failures } = await check({ ...given, tables: [{ ...table("orders"), primaryKey: [] }] });
    expect(failures).toEqual([{ property: "tables", reason: "tables[0].primaryKey: must name at least one column" }]);
  });
});

describe("SourceBackfill diff", () => {
  it("is unchanged when nothing is", async () => {
    expect(await changes(given)).toBe(false);
  });

  it("changes for a table added, and for a new resume token", async () => {
    expect(await changes({ ...given, tables: [table("customers"), table("orders")] })).toBe(true);
    expect(await changes({ ...given, resumeToken: "local_slot@0/2000000" })).toBe(true);
  });

  it("is unchanged at preview while the resume token is unknown (up diffs again once it is known)", async () => {
    expect(await changes({ ...given, resumeToken: unknownValue })).toBe(false);
    // Another unknown input is still a change: only the token follows the source connector's update.
    expect(await changes({ ...given, resumeToken: unknownValue, tables: [table("customers"), table("orders")] })).toBe(
      true,
    );
  });
});

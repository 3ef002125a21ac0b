// The PostgresCdc provider's input checks and diff, which need no database.
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { scramVerifier } from "../../lib/postgres";
import { postgresCdcProvider as provider, type PostgresCdcState } from "../../providers/postgres-cdc";

// What the component passes for the local stack (de520ab's /tmp state export, pipeline-cdc), before check.
const given = {
  host: "127.0.0.1",
  port: 55432,
  database: "cdc_source",
  user: "postgres",
  password: "source-password",
  publication: "local_publication",
  slot: "local_slot",
  tables: [
    { schema: "inventory", name: "customers" },
    { schema: "inventory", name: "orders" },
  ],
  replicationPassword: "",
};

// The outputs de520ab recorded for it: a version-1 state (no providerVersion), secrets decrypted.
const v1State = {
  ...given,
  host: "unreachable.invalid", // any call to the database would fail
  publicationExists: true,
  publishedTables: ["inventory.customers", "inventory.orders"],
  replicationUser: "",
  replicationUserExists: false,
  slotExists: true,
  tablesNeedingFullIdentity: [],
  walLevel: "logical",
} as unknown as PostgresCdcState;

const check = (news: Record<string, unknown>) => provider.check({} as never, news as never);

/** The inputs check makes of `news`, which must pass. */
async function checked(news: Record<string, unknown>) {
  const { inputs, failures } = await check(news);
  expect(failures).toEqual([]);
  return inputs!;
}

describe("PostgresCdc check", () => {
  it("fills in the defaults: no slot, no replication user", async () => {
    expect(await checked({ ...given, slot: undefined })).toMatchObject({
      slot: "",
      replicationUser: "",
      replicationPassword: "",
    });
  });

  it("names each bad property once, with what it allows", async () => {
    const { failures } = await check({
      ...given,
      host: "",
      port: 70000,
      publication: "",
      tables: [{ schema: "inventory", name: "x".repeat(64) }, { name: "t" }],
      slot: "Bad-Slot",
      replicationUser: "r".repeat(64),
      password: 5,
    });
    expect(failures).toEqual([
      { property: "host", reason: "must be a host name or address" },
      { property: "port", reason: "must be a port number from 1 to 65535, got '70000'" },
      { property: "password", reason: "must be a string (set it as a secret)" },
      { property: "publication", reason: "must be a name of 1 to 63 bytes" },
      {
        property: "tables",
        reason: "tables[0].name: must be a name of 1 to 63 bytes; tables[1].schema: must be a name of 1 to 63 bytes",
      },
      { property: "slot", reason: "a replication slot name may hold only a-z, 0-9 and _ (at most 63)" },
      { property: "replicationUser", reason: "must be a name of 1 to 63 bytes" },
    ]);
    expect((await check({ ...given, tables: [] })).failures).toEqual([
      { property: "tables", reason: "must list at least one table, each with a schema and a name of 1 to 63 bytes" },
    ]);
  });

  it("requires the replication user's password", async () => {
    expect((await check({ ...given, replicationUser: "cdc_reader" })).failures).toEqual([
      { property: "replicationPassword", reason: "is required with replicationUser" },
    ]);
  });

  it("skips values still unknown at preview", async () => {
    const { failures } = await check({
      ...given,
      host: unknownValue,
      port: unknownValue,
      slot: unknownValue,
      tables: [{ schema: unknownValue, name: "customers" }],
      replicationUser: unknownValue,
    });
    expect(failures).toEqual([]);
    expect((await check({ ...given, tables: unknownValue })).failures).toEqual([]);
    // A user still unknown may turn out to be none, which needs no password.
    expect((await check({ ...given, replicationUser: unknownValue })).failures).toEqual([]);
  });
});

describe("PostgresCdc diff", () => {
  const stamped = { ...v1State, providerVersion: 1 } as PostgresCdcState;

  it("a state de520ab wrote equals the inputs today's program produces for the same config", async () => {
    const inputs = await checked({ ...given, host: "unreachable.invalid" });
    expect(await provider.diff("cdc", stamped, inputs)).toMatchObject({ changes: false });
    // Unstamped, it is a change that update only restamps: no call to the (unreachable) database.
    expect((await provider.diff("cdc", v1State, inputs)).changes).toBe(true);
    const { outs } = await provider.update("cdc", v1State, inputs);
    expect(outs).toEqual({ ...v1State, providerVersion: 1 });
  });

  it("a changed password, or replication password, is a change in place, so update stores the new one", async () => {
    const inputs = await checked({ ...given, host: "unreachable.invalid" });
    expect(await provider.diff("cdc", stamped, { ...inputs, password: "rotated" })).toMatchObject({
      changes: true,
      replaces: [],
    });
    const withUser = {
      ...stamped,
      replicationUser: "cdc_reader",
      replicationPassword: "old",
      replicationUserExists: true,
    };
    expect(
      await provider.diff("cdc", withUser, { ...inputs, replicationUser: "cdc_reader", replicationPassword: "new" }),
    ).toMatchObject({ changes: true, replaces: [] });
  });

  it("another server or publication is another resource", async () => {
    const inputs = await checked({ ...given, host: "unreachable.invalid" });
    expect(await provider.diff("cdc", stamped, { ...inputs, port: 5433, publication: "p2" })).toMatchObject({
      changes: true,
      replaces: ["port", "publication"],
    });
  });
});

describe("the replication role's password", () => {
  it("the verifier matches RFC 7677's SCRAM-SHA-256 exchange for 'pencil'", () => {
    const verifier = scramVerifier("pencil", Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"));
    const [, storedKey, serverKey] = /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$(.+):(.+)$/.exec(verifier) ?? [];
    const nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
    const hmac = (key: string) => createHmac("sha256", Buffer.from(key, "base64")).update(authMessage).digest();
    // The server's signature the RFC's server sends, and the client's proof checked the way the server does.
    expect(hmac(serverKey).toString("base64")).toBe("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    const proof = Buffer.from("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "base64");
    const clientKey = Buffer.from(hmac(storedKey).map((byte, i) => byte ^ proof[i]));
    expect(createHash("sha256").update(clientKey).digest("base64")).toBe(storedKey);
  });
});

// reconcile's --source-url and --target-url: parsed, checked and applied over the stack's settings; the
// passwords come from the environment, never from the URL.
import { describe, expect, it } from "vitest";
import { parseStackSettings, SECRET_KEYS } from "../../config";
import { withConnectionFlags, type StackSite } from "../../ops/stacks";

const settings = parseStackSettings(
  {
    kafkaConnect: { url: "http://127.0.0.1:58083", bootstrapServers: "127.0.0.1:59092" },
    pipeline: { topicPrefix: "dev" },
    tables: [{ schema: "dbo", name: "customers", columns: [{ name: "id", type: "integer" }], primaryKey: ["id"] }],
    source: { engine: "sqlserver", host: "mssql", port: 1433, database: "shop", user: "sa" },
    target: { host: "pg", port: 5432, database: "shop", user: "etl", schema: "replica" },
  },
  "dev",
  new Set(SECRET_KEYS),
);
const site = { stack: { name: "dev" }, settings, sourcePassword: "stack-s", targetPassword: "stack-t" } as StackSite;

describe("withConnectionFlags", () => {
  it("keeps the stack's settings without flags", () => {
    expect(withConnectionFlags(site, {}, {})).toEqual(site);
  });

  it("replaces the source with the URL's, its engine from the scheme, its password from CDC_SOURCE_PASSWORD", () => {
    const flagged = withConnectionFlags(
      site,
      { sourceUrl: "postgresql://reader@restore-host/shop%20copy" },
      {
        CDC_SOURCE_PASSWORD: "env-s",
      },
    );
    expect(flagged.settings.source).toEqual({
      engine: "postgres",
      host: "restore-host",
      port: 5432,
      database: "shop copy",
      user: "reader",
    });
    expect([flagged.sourcePassword, flagged.targetPassword]).toEqual(["env-s", "stack-t"]);
    expect(flagged.settings.tables).toBe(settings.tables);
  });

  it("replaces the target, keeping the stack's schema unless ?schema= names one; the stack's password without the variable", () => {
    const kept = withConnectionFlags(site, { targetUrl: "postgres://etl@dr-pg:6432/shop" }, {});
    expect(kept.settings.target).toEqual({
      host: "dr-pg",
      port: 6432,
      database: "shop",
      user: "etl",
      schema: "replica",
    });
    expect(kept.targetPassword).toBe("stack-t");
    const named = withConnectionFlags(site, { targetUrl: "postgres://etl@dr-pg/shop?schema=public" }, {});
    expect(named.settings.target.schema).toBe("public");
    expect(withConnectionFlags(site, { sourceUrl: "sqlserver://sa@mssql-dr/shop" }, {}).settings.source).toMatchObject({
      engine: "sqlserver",
      port: 1433,
    });
  });

  it("refuses what it cannot use, naming the flag and what is expected", () => {
    const refused = (flags: Parameters<typeof withConnectionFlags>[1]) => () => withConnectionFlags(site, flags, {});
    expect(refused({ sourceUrl: "shop" })).toThrow(
      "--source-url: not a URL; expected postgres:// or sqlserver://user@host:port/database",
    );
    expect(refused({ targetUrl: "sqlserver://sa@h/db" })).toThrow(
      "--target-url: expected postgres://user@host:port/database",
    );
    expect(refused({ sourceUrl: "mysql://u@h/db" })).toThrow("--source-url: expected postgres:// or sqlserver://");
    expect(refused({ targetUrl: "postgres://h/db" })).toThrow("--target-url: needs a user, a host and a database");
    expect(refused({ targetUrl: "postgres://u@h" })).toThrow("--target-url: needs a user, a host and a database");
  });

  it("refuses a password in a URL without repeating it", () => {
    expect(() => withConnectionFlags(site, { targetUrl: "postgres://etl:hunter2@pg/shop" }, {})).toThrow(
      /^--target-url: must not carry a password \(ps and shell history show it\); set CDC_TARGET_PASSWORD$/,
    );
  });
});

// reconcile's --source-url and --target-url: parsed and checked like the stack's settings, applied over
// them; passwords from the environment, never from a URL, and the stack's only for the stack's databases.
import { describe, expect, it } from "vitest";
import { parseStackSettings, SECRET_KEYS } from "../../config";
import { applyConnections, parseConnectionFlags, type ConnectionFlags } from "../../ops/connection-flags";
import type { StackSite } from "../../ops/stacks";

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
const apply = (flags: ConnectionFlags, env: Record<string, string> = {}) =>
  applyConnections(site, parseConnectionFlags(flags), env);

describe("connection flags", () => {
  it("keep the stack's settings when none is given", () => {
    expect(apply({})).toEqual(site);
  });

  it("replace the source, its engine from the scheme, its password from CDC_SOURCE_PASSWORD", () => {
    const flagged = apply(
      { sourceUrl: "postgresql://reader@restore-host/shop%20copy" },
      { CDC_SOURCE_PASSWORD: "env-s" },
    );
    expect(flagged.settings.source).toEqual({
      engine: "postgres",
      host: "restore-host",
      port: 5432,
      database: "shop copy",
      user: "reader",
      // TLS as the stack's (a PostgreSQL source: none).
      encrypt: false,
      trustServerCertificate: false,
    });
    expect([flagged.sourcePassword, flagged.targetPassword]).toEqual(["env-s", "stack-t"]);
    expect(flagged.settings.tables).toBe(settings.tables);
    expect(
      apply({ sourceUrl: "sqlserver://sa@[::1]/shop" }, { CDC_SOURCE_PASSWORD: "x" }).settings.source,
    ).toMatchObject({
      engine: "sqlserver",
      host: "::1",
      port: 1433,
    });
  });

  it("replace the target, keeping the stack's schema unless ?schema= names one", () => {
    const env = { CDC_TARGET_PASSWORD: "env-t" };
    const kept = apply({ targetUrl: "postgres://etl@dr-pg:6432/shop" }, env);
    expect(kept.settings.target).toEqual({
      host: "dr-pg",
      port: 6432,
      database: "shop",
      user: "etl",
      schema: "replica",
    });
    expect(kept.targetPassword).toBe("env-t");
    expect(apply({ targetUrl: "postgres://etl@dr-pg/shop?schema=public" }, env).settings.target.schema).toBe("public");
  });

  it("send the stack's password only to the stack's own database", () => {
    // Another schema or user of the same database is fine; another server is not.
    expect(apply({ targetUrl: "postgres://auditor@pg:5432/shop?schema=public" }).targetPassword).toBe("stack-t");
    expect(() => apply({ targetUrl: "postgres://etl@elsewhere:5432/shop" })).toThrow(
      "--target-url names another database than the stack's target: set CDC_TARGET_PASSWORD",
    );
    expect(() => apply({ sourceUrl: "sqlserver://sa@mssql/other" })).toThrow("set CDC_SOURCE_PASSWORD");
  });

  it("are refused, naming the flag and what it takes, when they cannot be used", () => {
    const refused = (flags: ConnectionFlags) => () => parseConnectionFlags(flags);
    expect(refused({ sourceUrl: "shop" })).toThrow(
      "--source-url: not a URL; expected postgres:// or sqlserver://user@host:port/database",
    );
    expect(refused({ targetUrl: "sqlserver://sa@h/db" })).toThrow(
      "--target-url: expected postgres://user@host:port/database[?schema=name]",
    );
    expect(refused({ sourceUrl: "mysql://u@h/db" })).toThrow("--source-url: expected postgres:// or sqlserver://");
    expect(refused({ targetUrl: "postgres://h/db" })).toThrow("--target-url: user ");
    expect(refused({ targetUrl: "postgres://u@h" })).toThrow("--target-url: database ");
    expect(refused({ targetUrl: "postgres://u@h/db?schema=" })).toThrow("--target-url: schema ");
    expect(refused({ targetUrl: `postgres://u@h/${"d".repeat(64)}` })).toThrow("--target-url: database ");
    expect(refused({ targetUrl: "postgres://u@h/db?sslmode=require" })).toThrow(
      "--target-url: unknown parameter sslmode; allowed: schema",
    );
    expect(refused({ sourceUrl: "postgres://u@h/db?schema=x" })).toThrow(
      "--source-url: unknown parameter schema; allowed: none",
    );
  });

  it("refuse a password in a URL without repeating it", () => {
    expect(() => parseConnectionFlags({ targetUrl: "postgres://etl:hunter2@pg/shop" })).toThrow(
      /^--target-url: must not carry a password \(ps and shell history show it\); set CDC_TARGET_PASSWORD$/,
    );
  });
});

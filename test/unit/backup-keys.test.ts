// The key template: the keys the backup command writes, the pattern rpo/restore find them by, and the
// templates refused before anything is written.
import { describe, expect, it } from "vitest";
import {
  backupKey,
  DEFAULT_KEY_TEMPLATE,
  keyTemplateSchema,
  keyTime,
  kindKeys,
  manifestKey,
} from "../../lib/backup-keys";

const at = new Date("2026-12-01T14:05:09.042Z");

describe("backupKey and kindKeys", () => {
  it("names a backup by the default template, and finds it again, not its manifest", () => {
    const key = backupKey(DEFAULT_KEY_TEMPLATE, { kind: "database", stack: "dev", at, ext: "dump" });
    expect(key).toBe("database/2026/12/01/dev-20261201T140509042Z.dump");
    const { prefix, pattern } = kindKeys(DEFAULT_KEY_TEMPLATE, "database");
    expect(prefix).toBe("database/");
    expect(pattern.test(key)).toBe(true);
    expect(pattern.test(manifestKey(key))).toBe(false);
    expect(kindKeys(DEFAULT_KEY_TEMPLATE, "config").pattern.test(key)).toBe(false);
  });

  it("reads the runbooks' layout, where the kind is not the first field", () => {
    const template = "<yyyy>/<mm>/<dd>/<kind>/<stack>-<hh><mi><ss>.<ext>";
    const key = backupKey(template, { kind: "files", stack: "dr", at, ext: "tar.gz" });
    expect(key).toBe("2026/12/01/files/dr-140509.tar.gz");
    const { prefix, pattern } = kindKeys(template, "files");
    expect(prefix).toBe("");
    expect(pattern.test(key)).toBe(true);
    expect(pattern.test("2026/12/01/database/dr-140509.dump")).toBe(false);
    expect(pattern.test("verify/2026/12/01/files/dr-140509.tar.gz.json")).toBe(false);
  });
});

describe("keyTime", () => {
  it("reads the time a key names: to the millisecond by <time>, else to the second", () => {
    const key = backupKey(DEFAULT_KEY_TEMPLATE, { kind: "base", stack: "dev", at, ext: "tar" });
    expect(keyTime(DEFAULT_KEY_TEMPLATE, "base", key)).toEqual(at);
    const template = "<yyyy>/<mm>/<dd>/<kind>/<stack>-<hh><mi><ss>.<ext>";
    const bySecond = backupKey(template, { kind: "database", stack: "dr", at, ext: "bak" });
    expect(keyTime(template, "database", bySecond)).toEqual(new Date("2026-12-01T14:05:09.000Z"));
  });

  it("reads no time from a key of another kind, or a manifest", () => {
    const key = backupKey(DEFAULT_KEY_TEMPLATE, { kind: "database", stack: "dev", at, ext: "dump" });
    expect(keyTime(DEFAULT_KEY_TEMPLATE, "base", key)).toBeUndefined();
    expect(keyTime(DEFAULT_KEY_TEMPLATE, "database", manifestKey(key))).toBeUndefined();
  });
});

describe("keyTemplateSchema", () => {
  const problems = (template: string) =>
    keyTemplateSchema.safeParse(template).error?.issues.map((i) => i.message) ?? [];

  it("accepts the default and a template exact to the second", () => {
    expect(problems(DEFAULT_KEY_TEMPLATE)).toEqual([]);
    expect(problems("<kind>/<yyyy><mm><dd><hh><mi><ss>.<ext>")).toEqual([]);
  });

  it("refuses a template without a time field, without its kind or extension, or with an unknown field", () => {
    expect(problems("<kind>/<yyyy>/<mm>/<dd>/<stack>.<ext>")).toEqual([
      "must contain a time field: <time>, or all of <yyyy> <mm> <dd> <hh> <mi> <ss>",
    ]);
    expect(problems("<yyyy>/<time>.dump")).toEqual(["must contain <kind>", "must end with <ext>"]);
    expect(problems("<kind>/<host>-<time>.<ext>")[0]).toMatch(/^has unknown field\(s\) <host> \(allowed: <kind>, /);
  });
});

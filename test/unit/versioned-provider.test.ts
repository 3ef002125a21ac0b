// The state versioning every provider goes through (lib/versioned-provider.ts) and the zod input check
// (lib/input-check.ts), on a toy provider whose calls are counted.
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { checkInputs } from "../../lib/input-check";
import { migrateState, versionedProvider, type ProviderState } from "../../lib/versioned-provider";

// Version 1 stored `size` as text; version 2 as a number; version 3 added `unit`.
const versioning = {
  version: 3,
  migrations: {
    1: (s: ProviderState) => ({ ...s, size: Number(s.size) }),
    2: (s: ProviderState) => ({ ...s, unit: "MB" }),
  },
};

function toyProvider() {
  const calls: string[] = [];
  const provider = versionedProvider<ProviderState, ProviderState>("Toy", versioning, {
    check: async (_olds, news) => ({ inputs: news }),
    diff: async (_id, olds, news) => {
      calls.push(`diff ${JSON.stringify(olds)}`);
      return { changes: olds.size !== news.size };
    },
    create: async (inputs) => ({ id: "toy", outs: { ...inputs } }),
    read: async (id, props) => ({ id, props }),
    update: async (_id, _olds, news) => {
      calls.push("update");
      return { outs: { ...news, unit: "MB" } };
    },
    delete: async (_id, props) => {
      calls.push(`delete ${JSON.stringify(props)}`);
    },
  });
  return { provider, calls };
}

describe("versionedProvider", () => {
  it("migrates a state from any older version, one step per version", () => {
    expect(migrateState(versioning, { size: "5" }, "Toy 'a'")).toEqual({ size: 5, unit: "MB", providerVersion: 3 });
    expect(migrateState(versioning, { size: 5, providerVersion: 2 }, "Toy 'a'")).toEqual({
      size: 5,
      unit: "MB",
      providerVersion: 3,
    });
  });

  it("refuses a state written by a newer version, naming both", () => {
    expect(() => migrateState(versioning, { providerVersion: 4 }, "Toy 'a'")).toThrow(
      "Toy 'a' was written by provider version 4, newer than the installed 3",
    );
  });

  it("refuses a version gap without a migration", () => {
    expect(() => migrateState({ version: 2, migrations: {} }, {}, "Toy 'a'")).toThrow(
      "Toy 'a': no migration from provider version 1",
    );
  });

  it("stamps what create and read return", async () => {
    const { provider } = toyProvider();
    expect((await provider.create({ size: 5 })).outs).toEqual({ size: 5, providerVersion: 3 });
    expect((await provider.read("toy", { size: "5" })).props).toEqual({ size: 5, unit: "MB", providerVersion: 3 });
  });

  it("leaves undefined out of what it returns, at any depth (the engine's Struct cannot hold it)", async () => {
    const { provider } = toyProvider();
    const made = { size: 5, slotCreatedAt: undefined, last: { tables: [{ name: "t", rows: undefined }] } };
    expect((await provider.create(made)).outs).toStrictEqual({
      size: 5,
      last: { tables: [{ name: "t" }] },
      providerVersion: 3,
    });
    const rewritten = await provider.update("toy", { size: "5", note: undefined, __provider: "old" }, { size: 5 });
    expect(rewritten.outs).toStrictEqual({ size: 5, unit: "MB", providerVersion: 3 });
  });

  it("diff sees the migrated state, and an old state as a change", async () => {
    const { provider, calls } = toyProvider();
    expect((await provider.diff("toy", { size: "5" }, { size: 5 })).changes).toBe(true);
    expect(calls).toEqual([`diff ${JSON.stringify({ size: 5, unit: "MB", providerVersion: 3 })}`]);
    const current = { size: 5, unit: "MB", providerVersion: 3, __provider: "shim" };
    expect((await provider.diff("toy", current, { size: 5, __provider: "shim" })).changes).toBe(false);
    expect((await provider.diff("toy", current, { size: 5, __provider: "another shim" })).changes).toBe(true);
  });

  it("shows a replacing property still unknown at preview as an update", async () => {
    const replacing = versionedProvider<ProviderState, ProviderState>("Toy", versioning, {
      ...toyProvider().provider,
      diff: async (_id, olds, news) => ({
        changes: true,
        replaces: ["host", "size"].filter((key) => olds[key] !== news[key]),
        deleteBeforeReplace: true,
      }),
    });
    const olds = { host: "a", size: 5, unit: "MB", providerVersion: 3 };
    expect(await replacing.diff("toy", olds, { host: unknownValue, size: 5 })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: undefined,
    });
    expect(await replacing.diff("toy", olds, { host: unknownValue, size: 6 })).toEqual({
      changes: true,
      replaces: ["size"],
      deleteBeforeReplace: true,
    });
  });

  it("rewrites an old state without calling update when nothing else changed", async () => {
    const { provider, calls } = toyProvider();
    const { outs } = await provider.update("toy", { size: "5", __provider: "old code" }, { size: 5 });
    expect(outs).toEqual({ size: 5, unit: "MB", providerVersion: 3 });
    expect(calls).not.toContain("update");
  });

  it("calls update with the migrated state when something changed", async () => {
    const { provider, calls } = toyProvider();
    const { outs } = await provider.update("toy", { size: "5" }, { size: 6 });
    expect(outs).toEqual({ size: 6, unit: "MB", providerVersion: 3 });
    expect(calls).toContain("update");
  });

  it("deletes with the migrated state", async () => {
    const { provider, calls } = toyProvider();
    await provider.delete("toy", { size: "5" });
    expect(calls).toEqual([`delete ${JSON.stringify({ size: 5, unit: "MB", providerVersion: 3 })}`]);
  });
});

describe("checkInputs", () => {
  const schema = z.object({
    name: z.string("must be a name").min(1, "must be a name"),
    port: z.int("must be a port number").min(1, "must be from 1"),
    cluster: z.object({ url: z.url("must be a URL"), token: z.string().optional() }),
    tags: z.array(z.string("must be text")).default([]),
  });

  it("returns the normalised inputs when they are valid", () => {
    expect(checkInputs(schema, { name: "a", port: 1, cluster: { url: "http://x" }, extra: 1 })).toEqual({
      inputs: { name: "a", port: 1, cluster: { url: "http://x" }, tags: [] },
      failures: [],
    });
  });

  it("gives one failure per property, nested problems with their path", () => {
    const { failures } = checkInputs(schema, { name: "", port: 0.5, cluster: { url: "nope", token: 1 }, tags: [1] });
    expect(failures).toEqual([
      { property: "name", reason: "must be a name" },
      { property: "port", reason: "must be a port number" },
      {
        property: "cluster",
        reason: "cluster.url: must be a URL; cluster.token: Invalid input: expected string, received number",
      },
      { property: "tags", reason: "tags[0]: must be text" },
    ]);
  });

  it("skips what is still unknown at preview, and fails the rest", () => {
    const news = { name: unknownValue, port: 0, cluster: { url: unknownValue }, tags: unknownValue };
    const { inputs, failures } = checkInputs(schema, news);
    expect(failures).toEqual([{ property: "port", reason: "must be from 1" }]);
    // The known properties are normalised all the same (diff reads them at preview), the unknown kept.
    expect(checkInputs(schema, { name: "a", port: 1, cluster: unknownValue })).toEqual({
      inputs: { name: "a", port: 1, cluster: unknownValue, tags: [] },
      failures: [],
    });
    expect(inputs).toBe(news);
  });
});

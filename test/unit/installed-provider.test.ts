// The shim each dynamic resource stores (lib/installed-provider.ts) and the map from resource type to
// implementation it loads through (lib/provider-loader.cjs).
import * as pulumi from "@pulumi/pulumi";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { installedProvider } from "../../lib/installed-provider";

const PROJECT_DIR = path.resolve(__dirname, "../..");
const loader = require("../../lib/provider-loader.cjs") as {
  IMPLEMENTATIONS: Record<string, [string, string]>;
  loadProvider(type: string): Record<string, unknown>;
};

const providerFiles = readdirSync(path.join(PROJECT_DIR, "providers")).filter((f) => f.endsWith(".ts"));

describe("installed providers", () => {
  it("every provider file's resource class stores the shim of its own type, and the loader maps it back", () => {
    for (const file of providerFiles) {
      const text = readFileSync(path.join(PROJECT_DIR, "providers", file), "utf8");
      const shimType = /installedProvider\("(\w+)"\)/.exec(text)?.[1];
      const classType = /"cdc-pipeline",\s*"(\w+)",?\s*\)/.exec(text)?.[1];
      expect(shimType, file).toBeDefined();
      expect(shimType, file).toBe(classType);
      expect(loader.IMPLEMENTATIONS[shimType!]?.[0], file).toBe(`providers/${file}`);
    }
    expect(Object.keys(loader.IMPLEMENTATIONS)).toHaveLength(providerFiles.length);
  });

  it("the loader returns each type's implementation with all six methods", () => {
    for (const type of Object.keys(loader.IMPLEMENTATIONS)) {
      const provider = loader.loadProvider(type);
      for (const method of ["check", "diff", "create", "read", "update", "delete"]) {
        expect(typeof provider[method], `${type}.${method}`).toBe("function");
      }
    }
    expect(() => loader.loadProvider("Nope")).toThrow("no provider implements 'Nope' (known: ConnectCluster,");
  });

  it("serializes to under 2000 bytes, whatever the type", async () => {
    for (const type of Object.keys(loader.IMPLEMENTATIONS)) {
      const shim = installedProvider(type);
      const { text } = await pulumi.runtime.serializeFunction(() => shim, { allowSecrets: true });
      expect(text.length, type).toBeLessThan(2000);
      expect(text).toContain(JSON.stringify(type));
    }
  });
});

// The JDBC sink's settings with a fixed set of values, which the stack checks because the plugin's
// /config/validate does not (lib/debezium-configs SINK_ENUM_SETTINGS), against the installed plugin's own
// fields (test/jvm/DebeziumFieldValues.java): a value it adds, or a new such setting, fails here.
import { describe, expect, it } from "vitest";
import { DERIVED_KEYS, SINK_ENUM_SETTINGS } from "../../lib/debezium-configs";
import { pluginSinkEnumSettings } from "../debezium-plugin";

describe("the JDBC sink's enumerated settings", () => {
  it("are the plugin's own, the derived keys aside", () => {
    const plugin = pluginSinkEnumSettings();
    expect(plugin["insert.mode"]).toEqual(["insert", "update", "upsert"]);
    const settable = Object.fromEntries(
      Object.entries(plugin).filter(([key]) => !Object.hasOwn(DERIVED_KEYS.sink, key)),
    );
    expect(SINK_ENUM_SETTINGS).toEqual(settable);
  }, 120_000);
});

import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import { destructiveRefusal, normaliseType, planIsEmpty, planSchema, type TableSpec } from "../../lib/target-schema";
import { postgresSchemaProvider as provider, type PostgresSchemaState } from "../../providers/postgres-schema";

describe("PostgresSchema planning", () => {
  it("normalises the usual type aliases to what format_type prints", () => {
    expect(
      [
        "int",
        "INT8",
        "varchar(100)",
        "VarChar (20)",
        "decimal(10, 2)",
        "timestamptz",
        "timestamp(3)",
        "bool",
        "text",
      ].map(normaliseType),
    ).toEqual([
      "integer",
      "bigint",
      "character varying(100)",
      "character varying(20)",
      "numeric(10,2)",
      "timestamp with time zone",
      "timestamp(3) without time zone",
      "boolean",
      "text",
    ]);
  });

  const declared: TableSpec[] = [
    {
      name: "t",
      columns: [
        { name: "id", type: "int", nullable: false },
        { name: "v", type: "text" },
      ],
      primaryKey: ["id"],
    },
  ];
  const live = [
    {
      name: "t",
      columns: [
        { name: "id", type: "integer", nullable: false },
        { name: "v", type: "text", nullable: true },
        { name: "added_by_sink", type: "text", nullable: true },
      ],
      primaryKey: ["id"],
      primaryKeyName: "t_pkey",
      indexes: [],
    },
  ];

  it("plans nothing when the live table matches, leaving columns it never declared alone", () => {
    expect(planIsEmpty(planSchema("s", declared, live, declared))).toBe(true);
  });

  it("adds a missing table, column and index", () => {
    const plan = planSchema(
      "s",
      [
        {
          ...declared[0],
          columns: [...declared[0].columns, { name: "n", type: "int" }],
          indexes: [{ name: "t_v", columns: ["v"] }],
        },
      ],
      live,
      declared,
    );
    expect(plan.additive.slice(1)).toEqual([
      'ALTER TABLE "s"."t" ADD COLUMN "n" int',
      'CREATE INDEX "t_v" ON "s"."t" ("v")',
    ]);
    expect(plan.destructive).toEqual([]);
    expect(planSchema("s", declared, [], []).additive[1]).toBe(
      'CREATE TABLE "s"."t" ("id" int NOT NULL, "v" text, PRIMARY KEY ("id"))',
    );
  });

  it("names each destructive change and refuses them unless allowed", () => {
    const changed: TableSpec[] = [
      { name: "t", columns: [{ name: "id", type: "bigint", nullable: false }], primaryKey: [] },
    ];
    const plan = planSchema("s", changed, live, declared);
    expect(plan.destructive.map((d) => d.what)).toEqual([
      "s.t: change the type of 'id' from integer to bigint",
      "s.t: drop column 'v'",
      "s.t: change the primary key from (id) to ()",
    ]);
    expect(destructiveRefusal(plan, false)).toMatch(
      /^destructive changes refused \(set allowDestructive: true, in stack config cdc-pipeline:target\.allowDestructive, to apply them\): s\.t: change the type/,
    );
    expect(destructiveRefusal(plan, true)).toBeUndefined();
  });
});

// What the component passes for the local stack (de520ab's state export, pipeline-schema), before check.
const given = {
  host: "unreachable.invalid", // any call to the database would fail
  port: 55433,
  database: "cdc_target",
  user: "postgres",
  password: "target-password",
  schema: "inventory",
  tables: [
    {
      name: "customers",
      columns: [
        { name: "id", type: "integer", nullable: false },
        { name: "name", type: "text", nullable: false },
        { name: "email", type: "text" },
      ],
      primaryKey: ["id"],
    },
  ],
};

// The outputs de520ab recorded for it: a version-1 state (no providerVersion), secrets decrypted.
const v1State = {
  ...given,
  allowDestructive: false,
  dropTablesOnDelete: false,
  live: [
    {
      name: "customers",
      columns: [
        { name: "id", type: "integer", nullable: false },
        { name: "name", type: "text", nullable: false },
        { name: "email", type: "text", nullable: true },
      ],
      indexes: [],
      primaryKey: ["id"],
      primaryKeyName: "customers_pkey",
    },
  ],
} as PostgresSchemaState;

const check = (news: Record<string, unknown>) => provider.check({} as never, news as never);

/** The inputs check makes of `news`, which must pass. */
async function checked(news: Record<string, unknown>) {
  const { inputs, failures } = await check(news);
  expect(failures).toEqual([]);
  return inputs!;
}

describe("PostgresSchema check", () => {
  it("fills in the defaults: nothing destructive, the tables stay on delete", async () => {
    const inputs = await checked(given);
    expect(inputs).toMatchObject({ allowDestructive: false, dropTablesOnDelete: false });
    expect(inputs).not.toHaveProperty("rebuildToken");
  });

  it("names each bad property once, with the path and what it allows", async () => {
    const { failures } = await check({
      ...given,
      port: "5432",
      schema: "",
      tables: [
        {
          name: "t",
          columns: [{ name: "a", type: "int); DROP TABLE x; --" }],
          primaryKey: ["b"],
          indexes: [{ name: "t_c", columns: ["c"] }],
        },
        { name: "u", columns: [], primaryKey: [] },
      ],
      allowDestructive: "yes",
    });
    expect(failures).toEqual([
      { property: "port", reason: "must be a port number from 1 to 65535, got '5432'" },
      { property: "schema", reason: "must be a name of 1 to 63 bytes" },
      {
        property: "tables",
        reason:
          "tables[0].columns[0].type: must be a PostgreSQL type such as integer, text or numeric(10,2); " +
          "tables[0].primaryKey: 'b' is not one of its columns; " +
          "tables[0].indexes[0].columns: 'c' is not one of its columns; " +
          "tables[1].columns: needs at least one column",
      },
      { property: "allowDestructive", reason: "must be true or false" },
    ]);
    expect((await check({ ...given, tables: [] })).failures).toEqual([
      { property: "tables", reason: "must declare at least one table" },
    ]);
  });

  it("skips values still unknown at preview", async () => {
    const table = given.tables[0];
    const { failures } = await check({
      ...given,
      host: unknownValue,
      schema: unknownValue,
      tables: [{ ...table, columns: [{ name: unknownValue, type: "text" }], primaryKey: ["id"] }],
      rebuildToken: unknownValue,
    });
    expect(failures).toEqual([]);
    expect((await check({ ...given, tables: unknownValue })).failures).toEqual([]);
  });
});

describe("PostgresSchema diff", () => {
  const stamped = { ...v1State, providerVersion: 1 } as PostgresSchemaState;

  it("a state de520ab wrote equals the inputs today's program produces for the same config", async () => {
    const inputs = await checked(given);
    expect(await provider.diff("schema", stamped, inputs)).toMatchObject({ changes: false });
    // Unstamped, it is a change that update only restamps: no call to the (unreachable) database.
    expect((await provider.diff("schema", v1State, inputs)).changes).toBe(true);
    const { outs } = await provider.update("schema", v1State, inputs);
    expect(outs).toEqual({ ...v1State, providerVersion: 1 });
  });

  it("a changed password is a change in place, so update stores the new one", async () => {
    const inputs = await checked(given);
    expect(await provider.diff("schema", stamped, { ...inputs, password: "rotated" })).toMatchObject({
      changes: true,
      replaces: [],
    });
  });

  it("another server or schema is another resource", async () => {
    const inputs = await checked(given);
    expect(await provider.diff("schema", stamped, { ...inputs, database: "other", schema: "s2" })).toMatchObject({
      changes: true,
      replaces: ["database", "schema"],
    });
  });
});

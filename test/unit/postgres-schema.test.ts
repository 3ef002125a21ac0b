import { describe, expect, it } from "vitest";
import { normaliseType, planIsEmpty, planSchema, refusal, type TableSpec } from "../../providers/postgres-schema";

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
    expect(refusal(plan, false)).toMatch(
      /^destructive changes refused \(set allowDestructive: true to apply them\): s\.t: change the type/,
    );
    expect(refusal(plan, true)).toBeUndefined();
  });
});

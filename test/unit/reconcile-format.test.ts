// The reconcile report's severities and its three formats.
import { describe, expect, it } from "vitest";
import type { ReconcileReport, TableReport } from "../../lib/reconcile";
import { severityOf } from "../../lib/reconcile";
import { formatReconcile } from "../../ops/reconcile-format";

const table = (over: Partial<TableReport>): TableReport => ({
  table: "dbo.customers",
  sourceRows: 1000,
  targetRows: 1000,
  missing: [],
  extra: [],
  changed: [],
  severity: "OK",
  levels: 1,
  seconds: 0.25,
  ...over,
});

describe("severityOf", () => {
  it("grades by the share of differing rows, and any changed row is critical", () => {
    expect(severityOf(100_000, 0, 0, 0)).toBe("OK");
    expect(severityOf(100_000, 99, 0, 0)).toBe("LOW");
    expect(severityOf(100_000, 100, 0, 0)).toBe("MEDIUM");
    expect(severityOf(100_000, 500, 499, 0)).toBe("MEDIUM");
    expect(severityOf(100_000, 1000, 0, 0)).toBe("HIGH");
    expect(severityOf(100_000, 10_000, 0, 0)).toBe("CRITICAL");
    expect(severityOf(100_000, 0, 0, 1)).toBe("CRITICAL");
    expect(severityOf(0, 0, 1, 0)).toBe("CRITICAL");
  });
});

describe("formatReconcile", () => {
  const keys = Array.from({ length: 25 }, (_, i) => String(i + 1));
  const report: ReconcileReport = {
    status: "mismatch",
    tables: [
      table({ missing: keys, extra: ["a,b"], changed: ['say "hi"'], targetRows: 976, severity: "CRITICAL" }),
      table({ table: "dbo.orders" }),
    ],
  };

  it("prints a console table with the counts and the first keys of each kind", () => {
    const text = formatReconcile(report, "table");
    expect(text).toMatch(/│ dbo\.customers\s+│ 1000\s+│ 976\s+│ 25\s+│ 1\s+│ 1\s+│ CRITICAL\s+│ 0\.3\s+│/);
    expect(text).toMatch(/│ dbo\.orders\s+│ 1000\s+│ 1000\s+│ 0\s+│ 0\s+│ 0\s+│ OK/);
    expect(text).toContain("dbo.customers missing keys: 1, 2, 3");
    expect(text).toContain("... and 5 more (--format json lists all)");
    expect(text).toMatch(/Source and target differ\.$/);
  });

  it("writes CSV, one line per differing row, quoting where needed", () => {
    const lines = formatReconcile(report, "csv").split("\n");
    expect(lines[0]).toBe("table,kind,key,severity");
    expect(lines).toHaveLength(1 + 25 + 1 + 1);
    expect(lines).toContain('dbo.customers,extra,"a,b",CRITICAL');
    expect(lines).toContain('dbo.customers,changed,"say ""hi""",CRITICAL');
  });

  it("writes the whole report as JSON", () => {
    expect(JSON.parse(formatReconcile(report, "json"))).toEqual(report);
  });
});

// The reconcile report for people (a console table and the differing keys), for spreadsheets (CSV, one
// line per differing row) and for tools (JSON).
import Table from "cli-table3";
import type { ReconcileReport } from "../lib/reconcile";
import type { RepairReport } from "./repair";

export type ReportFormat = "table" | "json" | "csv";
export const REPORT_FORMATS: readonly ReportFormat[] = ["table", "json", "csv"];

/** Keys listed per kind and table on the console; JSON and CSV list them all. */
const SHOWN_KEYS = 20;

function asTable(report: ReconcileReport): string {
  const table = new Table({
    head: ["table", "source rows", "target rows", "missing", "extra", "changed", "severity", "seconds"],
    style: { head: [], border: [] },
  });
  for (const t of report.tables) {
    table.push([
      t.table,
      t.sourceRows,
      t.targetRows,
      t.missing.length,
      t.extra.length,
      t.changed.length,
      t.severity,
      t.seconds.toFixed(1),
    ]);
  }
  const lines = [table.toString()];
  for (const t of report.tables) {
    for (const kind of ["missing", "extra", "changed"] as const) {
      const keys = t[kind];
      if (keys.length === 0) continue;
      const more =
        keys.length > SHOWN_KEYS ? ` ... and ${keys.length - SHOWN_KEYS} more (--format json lists all)` : "";
      lines.push(`${t.table} ${kind} keys: ${keys.slice(0, SHOWN_KEYS).join(", ")}${more}`);
    }
  }
  lines.push(report.status === "match" ? "Source and target match." : "Source and target differ.");
  return lines.join("\n");
}

const csvField = (value: string) => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

function asCsv(report: ReconcileReport): string {
  const lines = ["table,kind,key,severity"];
  for (const t of report.tables) {
    for (const kind of ["missing", "extra", "changed"] as const) {
      for (const key of t[kind]) lines.push([t.table, kind, key, t.severity].map(csvField).join(","));
    }
  }
  return lines.join("\n");
}

export function formatReconcile(report: ReconcileReport, format: ReportFormat): string {
  if (format === "json") return JSON.stringify(report, null, 2);
  return format === "csv" ? asCsv(report) : asTable(report);
}

/** A repair's report for people: what it did (or would do) per table, then the reconcile after it. */
export function formatRepair(report: RepairReport, dryRun: boolean): string {
  if (report.repairs.length === 0) return formatReconcile(report.found, "table");
  const verb = dryRun ? "would" : "did";
  const lines = report.repairs.map(
    (r) =>
      `repair   ${r.table}: ${verb} read ${r.reemitted.length} key(s) again from the source, ${verb} delete ` +
      `${r.deleted.length} from the target` +
      (r.deleted.length > 0
        ? ` (${r.deleted.slice(0, SHOWN_KEYS).join(", ")}${r.deleted.length > SHOWN_KEYS ? ", ..." : ""})`
        : ""),
  );
  lines.push(formatReconcile(report.after ?? report.found, "table"));
  return lines.join("\n");
}

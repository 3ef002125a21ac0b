// SQL Server capture instances and their online rotation, as Debezium documents its schema update: when a
// table's captured columns change, a second capture instance is created next to the first, and the first
// is retired only once the source connector's committed LSN has passed the second one's start (from then
// Debezium reads only the second). Plain rules over what the database reports; the T-SQL that carries them
// out is in lib/sqlserver-cdc-sql.ts.

/** A table to capture, as declared. */
export interface CdcTable {
  /** Its schema. */
  readonly schema: string;
  /** Its name. */
  readonly name: string;
  /** Capture instance name. Default: <schema>_<name>; a change of columns adds a "_v2"/"_v1" successor. */
  readonly captureInstance?: string;
  /** Gating role for the change data; null or absent: no gating role. */
  readonly role?: string | null;
  /** Create the net-changes function (needs a primary key or unique index). Default: false. */
  readonly supportsNetChanges?: boolean;
  /** Columns to capture, in any order. Default: all. */
  readonly capturedColumns?: readonly string[];
  /** Filegroup for the change table. Default: the database's default filegroup. */
  readonly filegroup?: string;
}

/** A capture instance as cdc.change_tables and cdc.captured_columns describe it. */
export interface CaptureInstance {
  schema: string;
  table: string;
  captureInstance: string;
  /** cdc.change_tables.start_lsn as 20 hex digits; null until SQL Server has set it. */
  startLsn: string | null;
  columns: string[];
  role: string | null;
  supportsNetChanges: boolean;
}

/** Whether two column lists hold the same columns: SQL Server's order need not be the declaration's. */
export const sameColumns = (a: readonly string[], b: readonly string[]): boolean =>
  JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/**
 * How a table's declared gating role and net changes differ from what its capture instance was made with, one
 * phrase each; none when they agree (absent is no role, and no net changes).
 */
export function captureOptionChanges(
  t: Pick<CdcTable, "role" | "supportsNetChanges">,
  ci: Pick<CaptureInstance, "role" | "supportsNetChanges">,
): string[] {
  const changes: string[] = [];
  if ((t.role ?? null) !== ci.role) changes.push(`gating role ${ci.role ?? "none"}, declared ${t.role ?? "none"}`);
  if ((t.supportsNetChanges ?? false) !== ci.supportsNetChanges) {
    changes.push(
      `net changes ${ci.supportsNetChanges ? "on" : "off"}, declared ${t.supportsNetChanges ? "on" : "off"}`,
    );
  }
  return changes;
}

/** SQL Server's own default, schema_table, made a plain name (it becomes part of function names). */
export const defaultInstance = (t: CdcTable): string =>
  t.captureInstance ?? `${t.schema}_${t.name}`.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 100);

/** Selects the capture instances of the declared table `t`. */
export const ofTable =
  (t: Pick<CdcTable, "schema" | "name">) =>
  (ci: CaptureInstance): boolean =>
    ci.schema === t.schema && ci.table === t.name;

/**
 * Given a table's capture instances, oldest first: whether the older one of two may go, the connector's
 * position having reached the newer one's start (Debezium then reads only the newer one).
 */
export function mayRetireOldest(instances: readonly CaptureInstance[], position: string | null): boolean {
  const successor = instances[1];
  return instances.length === 2 && position !== null && successor.startLsn !== null && successor.startLsn <= position;
}

/** The old capture instances of the declared tables that the connector no longer reads. */
export function retirableInstances(
  facts: { readonly captureInstances: readonly CaptureInstance[] },
  tables: readonly CdcTable[],
  position: string | null,
): string[] {
  return tables.flatMap((t) => {
    const instances = facts.captureInstances.filter(ofTable(t));
    return mayRetireOldest(instances, position) ? [instances[0].captureInstance] : [];
  });
}

/** What a captured table needs next: a capture instance to create, and what to tell the user. */
export interface CaptureInstanceStep {
  /** The capture instance to create for the new columns. */
  readonly create?: string;
  /** Why an old instance stays, or what was started. */
  readonly warning?: string;
}

/**
 * The next step for a table that has capture instances (oldest first, a retirable one already retired) and
 * should capture `wanted`. Throws when the columns change again while two instances are still needed: a
 * table has at most two. `connectorNamed`: whether a source connector was named to read the position from.
 */
export function nextCaptureInstance(
  t: CdcTable,
  instances: readonly CaptureInstance[],
  wanted: readonly string[],
  position: string | null,
  connectorNamed: boolean,
): CaptureInstanceStep {
  const newest = instances[instances.length - 1];
  const kept = instances.length === 2 ? instances[0].captureInstance : undefined;
  const where = position === null ? "has no committed position yet" : `is at LSN ${position}`;
  const newestStart = `LSN ${newest.startLsn ?? "not set yet"}`;
  if (sameColumns(newest.columns, wanted)) {
    // Fixed when an instance is made: refused rather than left undone (a connector login would be made a member
    // of a gating role that does not exist). A change of the captured columns makes the successor with them.
    const options = captureOptionChanges(t, newest);
    if (options.length > 0) {
      throw new Error(
        `${t.schema}.${t.name}: capture instance ${newest.captureInstance} has ${options.join(" and ")}: a capture ` +
          "instance keeps the options it was made with; change them together with the captured columns, or declare what it has",
      );
    }
    if (!kept) return {};
    return {
      warning:
        `${t.schema}.${t.name}: capture instance ${kept} is kept until the connector passes ${newest.captureInstance}'s ` +
        `start (${newestStart}; the connector ${where}); a later pulumi up retires it`,
    };
  }
  if (kept) {
    throw new Error(
      `${t.schema}.${t.name} already has two capture instances (${kept}, ${newest.captureInstance}) and the connector ` +
        `has not passed ${newest.captureInstance}'s start (${newestStart}; the connector ${where}): ` +
        "change the captured columns again once it has (pulumi up then retires the old instance first)",
    );
  }
  const successor = newest.captureInstance.endsWith("_v2")
    ? `${newest.captureInstance.slice(0, -3)}_v1`
    : `${newest.captureInstance.replace(/_v1$/, "")}_v2`;
  return {
    create: successor,
    warning: connectorNamed
      ? `${t.schema}.${t.name}: capture instance ${successor} created; ${newest.captureInstance} is kept until the ` +
        "connector has switched to it, and a later pulumi up retires it"
      : `${t.schema}.${t.name}: capture instance ${successor} created; ${newest.captureInstance} is kept: no connector ` +
        "is named to tell when Debezium has switched to the new one, so disable it by hand once it has",
  };
}

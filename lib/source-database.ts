// The source database of a pipeline, either engine, as this program reaches it: what signals are written to
// (lib/incremental-snapshot) and what reconcile reads as its source side (lib/reconcile).
import { z } from "zod";
import { postgresConnectionSchema } from "./postgres";
import { sqlServerConnectionSchema } from "./sqlserver";

export const sourceDatabaseSchema = z.discriminatedUnion(
  "engine",
  [
    postgresConnectionSchema.extend({ engine: z.literal("postgres") }),
    sqlServerConnectionSchema.extend({ engine: z.literal("sqlserver") }),
  ],
  {
    // The issue's input is the whole connection: the message names the engine it gave.
    error: (issue) =>
      `must say its engine, "postgres" or "sqlserver", got '${String((issue.input as { engine?: unknown } | undefined)?.engine)}'`,
  },
);

/** A source database: its engine and that engine's connection settings. */
export type SourceDatabase = z.infer<typeof sourceDatabaseSchema>;

// A dynamic provider's `check`, written once: the inputs are parsed with a zod schema (as config.ts parses
// the stack settings), each problem becomes a CheckFailure naming its top-level property, and a problem
// with a value that is still unknown (the output of a resource not created yet, at preview) is skipped:
// the engine checks the inputs again once the value is known.
import type * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import type { z } from "zod";

/** Whether the value, or anything inside it, is the engine's unknown value. */
export function containsUnknown(value: unknown): boolean {
  if (value === unknownValue) return true;
  if (typeof value !== "object" || value === null) return false;
  return Object.values(value).some(containsUnknown);
}

/** The value at a zod issue's path, if there is one. */
export const valueAt = (value: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>(
    (at, key) => (typeof at === "object" && at !== null ? (at as Record<PropertyKey, unknown>)[key] : undefined),
    value,
  );

/** A path as a user writes it (and `pulumi config set --path` takes it): cluster.url, columns[0].name. */
export const pathText = (path: readonly PropertyKey[]): string =>
  path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("");

/**
 * The inputs as the schema normalises them (defaults filled in), or, while a value is unknown, as given.
 * One failure per top-level property; nested problems name their path within it.
 */
export function checkInputs<T>(
  schema: z.ZodType<T>,
  news: Record<string, unknown>,
): { inputs: T; failures: pulumi.dynamic.CheckFailure[] } {
  const parsed = schema.safeParse(news);
  if (parsed.success) return { inputs: parsed.data, failures: [] };
  const reasons = new Map<string, string[]>();
  for (const issue of parsed.error.issues) {
    // A refinement over a value that holds an unknown cannot be judged yet.
    if (issue.path.some((_, i) => valueAt(news, issue.path.slice(0, i + 1)) === unknownValue)) continue;
    if (containsUnknown(valueAt(news, issue.path))) continue;
    const property = issue.path.length > 0 ? String(issue.path[0]) : "";
    const where = issue.path.length > 1 ? `${pathText(issue.path)}: ` : "";
    reasons.set(property, [...(reasons.get(property) ?? []), `${where}${issue.message}`]);
  }
  const failures = [...reasons].map(([property, list]) => ({ property, reason: list.join("; ") }));
  // With a failure the engine stops. With unknowns only, diff still reads the inputs at preview: each
  // known property is normalised on its own (defaults filled in), each unknown one kept as it is.
  return { inputs: (failures.length > 0 ? news : normalisedKnown(schema, news)) as T, failures };
}

/** The properties of an object schema's inputs, parsed one by one where known, as given where unknown. */
function normalisedKnown(schema: z.ZodType, news: Record<string, unknown>): Record<string, unknown> {
  const shape = (schema as { shape?: Record<string, z.ZodType> }).shape;
  if (!shape) return news;
  const inputs: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(shape)) {
    const parsed = containsUnknown(news[key]) ? undefined : property.safeParse(news[key]);
    const value = parsed?.success ? parsed.data : news[key];
    if (value !== undefined) inputs[key] = value;
  }
  return inputs;
}

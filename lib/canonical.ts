// The canonical text of a row, computed inside the database, identical on PostgreSQL and SQL Server (2019+)
// for the same values, so that row hashes can be compared across the two without moving rows:
//   - fields joined by '|', each escaped ('\' -> '\\', '|' -> '\|'); NULL is '\N' (so '' and NULL differ);
//   - integers as digits; decimals at a fixed scale (the declared one, else 6): 12.50;
//   - timestamps in UTC with microseconds: 2026-11-24 09:00:00.123456; dates 2026-11-24; times 10:00:01.500000;
//   - uuids in lower case; booleans as 0/1; bytes as lower-case hex; char(n) without its trailing blanks;
//   - the text's UTF-8 bytes are what is hashed (SQL Server converts through a UTF-8 collation).
// The family of a column comes from its declared target type (config `tables[].columns[].type`).
import { ident } from "../lib/postgres";
import { bracketed } from "../lib/sqlserver";

export type Engine = "postgres" | "sqlserver";

export interface CanonicalColumn {
  readonly name: string;
  /** The declared PostgreSQL type, e.g. "numeric(10,2)", "timestamp with time zone". */
  readonly type: string;
}

type Family =
  | "integer"
  | "decimal"
  | "float"
  | "boolean"
  | "char"
  | "uuid"
  | "timestamptz"
  | "timestamp"
  | "date"
  | "time"
  | "bytes"
  | "text";

const DEFAULT_SCALE = 6;

/** The comparison family of a PostgreSQL type name, and the scale of a decimal. */
export function familyOf(type: string): { family: Family; scale: number } {
  const t = type.trim().toLowerCase().replace(/\s+/g, " ");
  const scale = /^(?:numeric|decimal)\s*\(\s*\d+\s*,\s*(\d+)\s*\)/.exec(t);
  const is = (re: RegExp) => re.test(t);
  if (is(/^(smallint|integer|int|int2|int4|int8|bigint|smallserial|serial|bigserial)$/))
    return { family: "integer", scale: 0 };
  if (is(/^(numeric|decimal)\b/)) return { family: "decimal", scale: scale ? Number(scale[1]) : DEFAULT_SCALE };
  if (is(/^(real|float4|float8|double precision|float)\b/)) return { family: "float", scale: DEFAULT_SCALE };
  if (is(/^(boolean|bool)$/)) return { family: "boolean", scale: 0 };
  if (is(/^(character|char|bpchar)\b(?! varying)/)) return { family: "char", scale: 0 };
  if (is(/^uuid$/)) return { family: "uuid", scale: 0 };
  if (is(/^(timestamptz|timestamp(\s*\(\d\))? with time zone)$/)) return { family: "timestamptz", scale: 0 };
  if (is(/^timestamp\b/)) return { family: "timestamp", scale: 0 };
  if (is(/^date$/)) return { family: "date", scale: 0 };
  if (is(/^time\b/)) return { family: "time", scale: 0 };
  if (is(/^bytea$/)) return { family: "bytes", scale: 0 };
  return { family: "text", scale: 0 };
}

/** A column's value as canonical text (NULL stays NULL), in PostgreSQL. */
function postgresText(column: CanonicalColumn): string {
  const v = ident(column.name);
  const { family, scale } = familyOf(column.type);
  switch (family) {
    case "integer":
    case "uuid":
      return `${v}::text`;
    case "decimal":
    case "float":
      return `round(${v}::numeric, ${scale})::numeric(38, ${scale})::text`;
    case "boolean":
      return `CASE WHEN ${v} THEN '1' ELSE '0' END`;
    case "char":
      return `rtrim(${v}::text, ' ')`;
    case "timestamptz":
      return `to_char(${v} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;
    case "timestamp":
      return `to_char(${v}, 'YYYY-MM-DD HH24:MI:SS.US')`;
    case "date":
      return `to_char(${v}, 'YYYY-MM-DD')`;
    case "time":
      return `to_char(${v}::interval, 'HH24:MI:SS.US')`;
    case "bytes":
      return `encode(${v}, 'hex')`;
    case "text":
      return `${v}::text`;
  }
}

/** Microseconds of a datetime2(6) expression, zero-padded to 6 digits. */
const msMicros = (dt: string) => `RIGHT(N'000000' + CONVERT(nvarchar(7), DATEPART(microsecond, ${dt})), 6)`;
const msDateTime = (dt: string) => `CONVERT(nvarchar(19), ${dt}, 120) + N'.' + ${msMicros(dt)}`;

/** The same canonical text in T-SQL (SQL Server 2019+), as nvarchar. */
function sqlServerText(column: CanonicalColumn): string {
  const v = bracketed(column.name);
  const { family, scale } = familyOf(column.type);
  switch (family) {
    case "integer":
      return `CONVERT(nvarchar(40), ${v})`;
    case "decimal":
    case "float":
      return `CONVERT(nvarchar(60), CONVERT(decimal(38, ${scale}), ROUND(${v}, ${scale})))`;
    case "boolean":
      return `CASE WHEN ${v} = 1 THEN N'1' WHEN ${v} = 0 THEN N'0' END`;
    case "char":
      return `RTRIM(CONVERT(nvarchar(max), ${v}))`;
    case "uuid":
      return `LOWER(CONVERT(nvarchar(36), ${v}))`;
    case "timestamptz":
      return msDateTime(`CONVERT(datetime2(6), SWITCHOFFSET(${v}, '+00:00'))`);
    case "timestamp":
      return msDateTime(`CONVERT(datetime2(6), ${v})`);
    case "date":
      return `CONVERT(nvarchar(10), ${v}, 23)`;
    case "time":
      return `CONVERT(nvarchar(8), CONVERT(time(6), ${v}), 108) + N'.' + ${msMicros(`CONVERT(time(6), ${v})`)}`;
    case "bytes":
      return `LOWER(CONVERT(nvarchar(max), ${v}, 2))`;
    case "text":
      return `CONVERT(nvarchar(max), ${v})`;
  }
}

/** The canonical text of several columns: escaped fields joined by '|', NULL as '\N'. */
export function rowText(engine: Engine, columns: readonly CanonicalColumn[]): string {
  if (engine === "postgres") {
    const field = (c: CanonicalColumn) =>
      `coalesce(replace(replace(${postgresText(c)}, '\\', '\\\\'), '|', '\\|'), '\\N')`;
    return columns.map(field).join(" || '|' || ");
  }
  const field = (c: CanonicalColumn) =>
    `COALESCE(REPLACE(REPLACE(${sqlServerText(c)}, N'\\', N'\\\\'), N'|', N'\\|'), N'\\N')`;
  return columns.map(field).join(" + N'|' + ");
}

/**
 * The first `bits` (32 or 64) of the MD5 of a text expression's UTF-8 bytes, as a big-endian integer
 * (64 bits: signed, as bigint; 32 bits: unsigned).
 */
export function hashBits(engine: Engine, text: string, bits: 32 | 64): string {
  if (engine === "postgres") {
    return `('x' || substr(md5(${text}), 1, ${bits / 4}))::bit(${bits})::bigint`;
  }
  // The UTF-8 collation makes the conversion to varchar produce UTF-8 bytes (SQL Server 2019+).
  const utf8 = `CONVERT(varchar(max), (${text}) COLLATE Latin1_General_100_BIN2_UTF8)`;
  return `CONVERT(bigint, SUBSTRING(HASHBYTES('MD5', ${utf8}), 1, ${bits / 8}))`;
}

/** A quoted table name. */
export function tableName(engine: Engine, schema: string, name: string): string {
  return engine === "postgres" ? `${ident(schema)}.${ident(name)}` : `${bracketed(schema)}.${bracketed(name)}`;
}

/** The subset of JSON Schema that structured-output schemas use (what zod emits). */
interface JsonSchemaLike {
  type?: string | string[];
  properties?: Record<string, JsonSchemaLike>;
  required?: string[];
  items?: JsonSchemaLike | JsonSchemaLike[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchemaLike[];
  oneOf?: JsonSchemaLike[];
  default?: unknown;
}

/**
 * Shapes `value` to fit a JSON schema, the way a model answering in "strict" structured-output
 * mode would: known properties kept when their type fits, missing ones filled with a plain
 * default (`''`, `0`, `false`, `[]`, the first enum value), unknown ones dropped. Lets the
 * offline demo model answer any schema, its own demo answers included.
 * @internal
 */
export function conformToSchema(value: unknown, schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return value;
  const s = schema as JsonSchemaLike;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum.includes(value) ? value : s.enum[0];
  const union = s.anyOf ?? s.oneOf;
  if (Array.isArray(union) && union.length > 0) {
    const fitting = union.find((option) => fits(value, option));
    return conformToSchema(value, fitting ?? union[0]);
  }
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? s.type[0]) : s.type;
  switch (type) {
    case 'object': {
      const source = isPlainObject(value) ? value : {};
      const properties = s.properties ?? {};
      if (Object.keys(properties).length === 0) return source;
      const shaped: Record<string, unknown> = {};
      for (const [key, propertySchema] of Object.entries(properties)) shaped[key] = conformToSchema(source[key], propertySchema);
      return shaped;
    }
    case 'array': {
      const items = Array.isArray(value) ? value : [];
      const itemSchema = Array.isArray(s.items) ? s.items[0] : s.items;
      return itemSchema === undefined ? items : items.map((item) => conformToSchema(item, itemSchema));
    }
    case 'string':
      return typeof value === 'string' ? value : value === undefined || value === null ? (typeof s.default === 'string' ? s.default : '') : String(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : numberOr(value, s.default, 0);
    case 'integer':
      return Math.round(typeof value === 'number' && Number.isFinite(value) ? value : numberOr(value, s.default, 0));
    case 'boolean':
      return typeof value === 'boolean' ? value : typeof s.default === 'boolean' ? s.default : false;
    case 'null':
      return null;
    default:
      return value;
  }
}

function fits(value: unknown, schema: JsonSchemaLike): boolean {
  const type = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
  if (Array.isArray(schema.enum)) return schema.enum.includes(value);
  if (type.length === 0) return true;
  return type.some((t) =>
    t === 'object'
      ? isPlainObject(value)
      : t === 'array'
        ? Array.isArray(value)
        : t === 'integer'
          ? Number.isInteger(value)
          : t === 'null'
            ? value === null
            : typeof value === t,
  );
}

function numberOr(value: unknown, fallback: unknown, zero: number): number {
  const parsed = typeof value === 'string' ? Number(value) : NaN;
  if (Number.isFinite(parsed)) return parsed;
  return typeof fallback === 'number' ? fallback : zero;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

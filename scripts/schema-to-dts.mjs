// TypeScript declarations for the report, generated from
// schema/report.schema.json (which the Rust tests validate every fixture's
// report against), so the package's types follow the report without a
// second hand-written copy. Handles the subset of JSON Schema that file
// uses: $ref to $defs, type (or a list of types), const, enum, oneOf,
// object properties/required/additionalProperties, array items, description.

const literal = (v) => JSON.stringify(v);

// $defs whose names would shadow a global type in the declarations.
const RENAMES = { Error: 'ReportError' };
const typeName = (name) => RENAMES[name] || name;

function comment(description, indent) {
  if (!description) return '';
  const text = description.replaceAll('*/', '*\\/');
  return `${indent}/** ${text} */\n`;
}

function typeOf(schema, indent) {
  if (schema.$ref) {
    const m = /^#\/\$defs\/(.+)$/.exec(schema.$ref);
    if (!m) throw new Error(`unsupported $ref ${schema.$ref}`);
    return typeName(m[1]);
  }
  if ('const' in schema) return literal(schema.const);
  if (schema.enum) return schema.enum.map(literal).join(' | ');
  if (schema.oneOf || schema.anyOf) {
    return (schema.oneOf || schema.anyOf).map((s) => typeOf(s, indent)).join(' | ');
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.map((t) => simpleType(t, schema, indent)).join(' | ');
}

function simpleType(type, schema, indent) {
  switch (type) {
    case 'string':
    case 'boolean':
    case 'null':
      return type;
    case 'integer':
    case 'number':
      return 'number';
    case 'array': {
      const item = schema.items ? typeOf(schema.items, indent) : 'unknown';
      return /[ |]/.test(item) ? `Array<${item}>` : `${item}[]`;
    }
    case 'object':
      return objectType(schema, indent);
    case undefined:
      return 'unknown';
    default:
      throw new Error(`unsupported type ${type}`);
  }
}

function objectType(schema, indent) {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const inner = `${indent}  `;
  let out = '{\n';
  for (const [name, prop] of Object.entries(props)) {
    const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : literal(name);
    out += comment(prop.description, inner);
    out += `${inner}${key}${required.has(name) ? '' : '?'}: ${typeOf(prop, inner)};\n`;
  }
  if (schema.additionalProperties !== false && Object.keys(props).length === 0) {
    out += `${inner}[key: string]: unknown;\n`;
  }
  return `${out}${indent}}`;
}

/** The declarations: the root as `Report`, each $defs entry under its name. */
export function schemaToDts(schema) {
  let out = `// Generated from schema/report.schema.json by scripts/schema-to-dts.mjs.\n\n`;
  out += comment(schema.description || schema.title, '');
  out += `export interface Report ${objectType(schema, '')}\n`;
  for (const [name, def] of Object.entries(schema.$defs || {})) {
    out += `\n${comment(def.description, '')}`;
    const isObject = def.type === 'object' && !def.oneOf;
    out += isObject
      ? `export interface ${typeName(name)} ${objectType(def, '')}\n`
      : `export type ${typeName(name)} = ${typeOf(def, '')};\n`;
  }
  return out;
}

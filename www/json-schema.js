// Checks a value against a JSON Schema, for the keywords the report's schema
// (schema/report.schema.json) uses: type, const, enum, minimum, required,
// properties, items, $ref (to "#/$defs/…") and oneOf. `additionalProperties`
// is not enforced: the report gains fields over time ("fields are added,
// never renamed or removed"), and what this page does not know it ignores.

const TYPES = {
  null: (v) => v === null,
  boolean: (v) => typeof v === 'boolean',
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isInteger(v),
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  array: (v) => Array.isArray(v),
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
};

/**
 * The problems of `value` against `schema` (whose `$defs` the `$ref`s name),
 * as "path: what" strings; empty when it conforms. Stops after `max`.
 */
export function validate(schema, value, max = 5) {
  return problemsOf(schema, value, schema.$defs || {}, max);
}

function problemsOf(schema, value, defs, max) {
  const problems = [];
  const check = (s, v, at) => {
    if (problems.length >= max) return;
    if (s.$ref) {
      const name = s.$ref.replace(/^#\/\$defs\//, '');
      const def = Object.hasOwn(defs, name) ? defs[name] : null;
      if (!def) throw new Error(`the schema has no ${s.$ref}`);
      check(def, v, at);
    }
    if (s.type !== undefined) {
      const types = [s.type].flat();
      if (!types.some((t) => TYPES[t](v))) {
        problems.push(`${at}: not ${types.join(' or ')}`);
        return;
      }
    }
    if ('const' in s && v !== s.const) problems.push(`${at}: not ${JSON.stringify(s.const)}`);
    if (s.enum && !s.enum.includes(v)) problems.push(`${at}: not one of ${s.enum.join(', ')}`);
    if (s.minimum !== undefined && typeof v === 'number' && v < s.minimum) problems.push(`${at}: below ${s.minimum}`);
    if (s.oneOf) {
      const matching = s.oneOf.filter((option) => problemsOf(option, v, defs, 1).length === 0).length;
      if (matching !== 1) problems.push(`${at}: matches ${matching} of the ${s.oneOf.length} allowed forms`);
    }
    if (TYPES.object(v)) {
      for (const key of s.required || []) {
        if (!Object.hasOwn(v, key)) problems.push(`${at}: no "${key}"`);
      }
      for (const [key, sub] of Object.entries(s.properties || {})) {
        if (Object.hasOwn(v, key)) check(sub, v[key], `${at}/${key}`);
      }
    }
    if (Array.isArray(v) && s.items) v.forEach((item, i) => check(s.items, item, `${at}/${i}`));
  };
  check(schema, value, '');
  return problems;
}

'use strict';
// Data filtering for Prisma: a residual (`engine.residual(...)`) as a Prisma `where`
// object, for `prisma.post.findMany({ where: prismaWhere(...) })`. Prisma writes SQL
// with SQL's NULL logic, so every atom is `{ AND: [{ f: { not: null } }, { f: ... }] }`:
// false, never unknown, for a missing attribute, and `NOT` means what Warden means.
// Prisma's `contains`/`startsWith`/`endsWith` are SQL LIKE without escaping: on
// PostgreSQL the helper escapes `\`, `%` and `_`; on SQLite, whose LIKE folds case and
// has no escape character, a string-pattern test is CannotFilter (authorize each row).

const { CannotFilter } = require('./index');

const VALUE_KINDS = { string: 'string', number: 'number', boolean: 'bool' };

function valueKind(v) {
  return typeof v === 'boolean' ? 'bool' : typeof v === 'string' ? 'string' : 'number';
}

function likeEscape(s) {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

// `project.org` -> { project: { is: inner } }: a to-one relation path; a missing
// related row makes the atom false, as a LEFT JOIN's NULL does in the SQL filter.
function at(path, inner) {
  const parts = path.split('.');
  let out = { [parts[parts.length - 1]]: inner };
  for (let i = parts.length - 2; i >= 0; i--) out = { [parts[i]]: { is: out } };
  return out;
}

// `{ f: { not: null } } AND { f: filter }` on the path's last field, inside the path's
// to-one relations: `{ project: { is: { AND: [...] } } }`.
function guarded(path, filter) {
  const parts = path.split('.');
  const leaf = parts.pop();
  const inner = { AND: [{ [leaf]: { not: null } }, { [leaf]: filter }] };
  return parts.reduceRight((where, rel) => ({ [rel]: { is: where } }), inner);
}

function build(c, fields, provider) {
  const field = (attr) => {
    const f = Object.prototype.hasOwnProperty.call(fields, attr) ? fields[attr] : undefined;
    if (f === undefined) throw new CannotFilter(`cannot filter: the field map has no field for \`resource.${attr}\``, '');
    return f;
  };
  const kindOf = (f) => {
    if (f.type === 'list') return 'list';
    const k = VALUE_KINDS[f.type];
    if (!k) throw new CannotFilter(`cannot filter: field type \`${f.type}\` is not string, number, boolean or list`, '');
    return k;
  };
  const scalar = (attr, kind) => {
    const f = field(attr);
    return kindOf(f) === kind ? f : null;
  };
  const FALSE = { OR: [] }; // Prisma: an empty OR matches nothing
  const TRUE = { AND: [] }; // an empty AND matches everything
  const [op] = Object.keys(c);
  const a = c[op];
  switch (op) {
    case 'and':
      return { AND: a.map((x) => build(x, fields, provider)) };
    case 'or':
      return { OR: a.map((x) => build(x, fields, provider)) };
    case 'not':
      return { NOT: build(a, fields, provider) };
    case 'present': {
      const f = field(a.attr);
      const kind = kindOf(f);
      if (a.kind !== undefined && a.kind !== kind) return FALSE;
      return kind === 'list' ? TRUE : at(f.field, { not: null });
    }
    case 'cmp': {
      const f = scalar(a.attr, valueKind(a.value));
      if (f === null) return FALSE;
      const key = { eq: 'equals', lt: 'lt', le: 'lte', gt: 'gt', ge: 'gte' }[a.op];
      return guarded(f.field, { [key]: a.value });
    }
    case 'in': {
      const f = a.values.length > 0 ? scalar(a.attr, valueKind(a.values[0])) : null;
      if (f === null) return FALSE;
      return guarded(f.field, { in: [...a.values] });
    }
    case 'contains':
    case 'starts_with':
    case 'ends_with': {
      const f = scalar(a.attr, 'string');
      if (f === null) return FALSE;
      if (provider !== 'postgresql') {
        throw new CannotFilter(
          `cannot filter: \`${op}\` on \`resource.${a.attr}\`: Prisma's LIKE on ${provider} is not an exact, case-sensitive test`,
          '',
        );
      }
      const key = { contains: 'contains', starts_with: 'startsWith', ends_with: 'endsWith' }[op];
      return guarded(f.field, { [key]: likeEscape(a.value) });
    }
    case 'has': {
      const f = field(a.attr);
      if (kindOf(f) !== 'list' || VALUE_KINDS[f.elementType] !== valueKind(a.value)) return FALSE;
      return at(f.field, { some: { [f.element]: { equals: a.value } } });
    }
    default:
      throw new CannotFilter(`cannot filter: unknown residual condition \`${op}\` (a newer engine?)`, '');
  }
}

/**
 * The Prisma `where` of a residual. `fields` maps attribute paths to `{ field, type }`
 * (`field` may cross to-one relations: `'project.org'`; `type` is 'string', 'number' or
 * 'boolean') or, for a list kept as related rows, `{ field: 'tags', type: 'list',
 * element: 'name', elementType: 'string' }`. `provider` is 'postgresql' or 'sqlite'.
 */
function prismaWhere(residual, fields, options) {
  const provider = (options && options.provider) || 'postgresql';
  if (provider !== 'sqlite' && provider !== 'postgresql') throw new TypeError("provider must be 'postgresql' or 'sqlite'");
  if (residual.kind === 'always') return {};
  if (residual.kind === 'never') return { OR: [] };
  return build(residual.condition, fields, provider);
}

module.exports = { prismaWhere };

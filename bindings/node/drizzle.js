'use strict';
// Data filtering for Drizzle ORM: a residual (`engine.residual(...)`) as a Drizzle `SQL`
// condition over the columns of the app's tables, for `db.select().from(t).where(...)`.
// Every atom guards its column with IS NOT NULL, so that it is false (never SQL's
// unknown) for a missing attribute and `not` means what Warden means; values are
// parameters. `drizzle-orm` is the app's own dependency (a peer of this package).

const { and, eq, gt, gte, inArray, isNotNull, lt, lte, not, or, sql } = require('drizzle-orm');
const { CannotFilter } = require('./index');

const KINDS = { string: 'string', number: 'number', boolean: 'bool' };

/**
 * A list attribute kept as rows of another table: `column` of the rows of `table` whose
 * `key` equals the resource row's `parent` column.
 */
function hasMany(table, column, key, parent) {
  return Object.freeze({ hasMany: true, table, column, key, parent });
}

function valueKind(v) {
  return typeof v === 'boolean' ? 'bool' : typeof v === 'string' ? 'string' : 'number';
}

function columnKind(col) {
  if (col && col.hasMany === true) return 'list';
  const k = KINDS[col && col.dataType];
  if (!k) throw new CannotFilter(`column ${col && col.name} of data type ${col && col.dataType} holds neither text, numbers nor booleans`, '');
  return k;
}

function build(c, columns, dialect) {
  const column = (attr) => {
    const col = Object.prototype.hasOwnProperty.call(columns, attr) ? columns[attr] : undefined;
    if (col === undefined) throw new CannotFilter(`cannot filter: the column map has no column for \`resource.${attr}\``, '');
    return col;
  };
  // The column of `attr` when it holds `kind`, else null (the atom is false).
  const scalar = (attr, kind) => {
    const col = column(attr);
    return columnKind(col) === kind ? col : null;
  };
  const FALSE = sql`(1 = 0)`;
  const TRUE = sql`(1 = 1)`;
  const [op] = Object.keys(c);
  const a = c[op];
  switch (op) {
    case 'and':
      return and(...a.map((x) => build(x, columns, dialect)));
    case 'or':
      return or(...a.map((x) => build(x, columns, dialect)));
    case 'not':
      return not(build(a, columns, dialect));
    case 'present': {
      const col = column(a.attr);
      const kind = columnKind(col);
      if (a.kind !== undefined && a.kind !== kind) return FALSE;
      return kind === 'list' ? TRUE : isNotNull(col);
    }
    case 'cmp': {
      const col = scalar(a.attr, valueKind(a.value));
      if (col === null) return FALSE;
      const f = { eq, lt, le: lte, gt, ge: gte }[a.op];
      return and(isNotNull(col), f(col, a.value));
    }
    case 'in': {
      const col = a.values.length > 0 ? scalar(a.attr, valueKind(a.values[0])) : null;
      if (col === null) return FALSE;
      return and(isNotNull(col), inArray(col, a.values));
    }
    case 'contains':
    case 'starts_with':
    case 'ends_with': {
      const col = scalar(a.attr, 'string');
      if (col === null) return FALSE;
      // Characters, as SQLite's and PostgreSQL's length/substr count them; never LIKE,
      // which folds case in SQLite.
      const n = [...a.value].length;
      let test;
      if (op === 'contains') {
        test = dialect === 'sqlite' ? sql`instr(${col}, ${a.value}) > 0` : sql`strpos(${col}, ${a.value}) > 0`;
      } else if (op === 'starts_with') {
        test = sql`substr(${col}, 1, ${n}) = ${a.value}`;
      } else {
        test = sql`(length(${col}) >= ${n} and substr(${col}, length(${col}) - ${n - 1}) = ${a.value})`;
      }
      return and(isNotNull(col), test);
    }
    case 'has': {
      const list = column(a.attr);
      if (columnKind(list) !== 'list' || columnKind(list.column) !== valueKind(a.value)) return FALSE;
      const v = typeof a.value === 'boolean' && dialect === 'sqlite' ? Number(a.value) : a.value;
      return sql`exists (select 1 from ${list.table} where ${list.key} = ${list.parent} and ${list.column} = ${v})`;
    }
    default:
      throw new CannotFilter(`cannot filter: unknown residual condition \`${op}\` (a newer engine?)`, '');
  }
}

/**
 * The Drizzle condition of a residual: `columns` maps attribute paths to Drizzle columns
 * (of the queried table or of a left-joined one) or to `hasMany(...)`; `dialect` is
 * 'sqlite' or 'postgres' (the substring function differs).
 */
function drizzleWhere(residual, columns, options) {
  const dialect = (options && options.dialect) || 'sqlite';
  if (dialect !== 'sqlite' && dialect !== 'postgres') throw new TypeError("dialect must be 'sqlite' or 'postgres'");
  if (residual.kind === 'always') return sql`(1 = 1)`;
  if (residual.kind === 'never') return sql`(1 = 0)`;
  return build(residual.condition, columns, dialect);
}

module.exports = { drizzleWhere, hasMany };

import type { SQL } from 'drizzle-orm';
import type { Residual } from './index';

/** Any Drizzle column (of the queried table or a left-joined one). */
export interface DrizzleColumnLike {
  readonly name: string;
  /** 'string', 'number' or 'boolean': what the column holds. */
  readonly dataType: string;
}

/** A list attribute kept as rows of another table. */
export interface HasMany {
  readonly hasMany: true;
  readonly table: unknown;
  readonly column: DrizzleColumnLike;
  readonly key: DrizzleColumnLike;
  readonly parent: DrizzleColumnLike;
}

/**
 * A list attribute: `column` of the rows of `table` whose `key` equals the resource
 * row's `parent` column (`hasMany(tags, tags.name, tags.postId, posts.id)`).
 */
export function hasMany(table: unknown, column: DrizzleColumnLike, key: DrizzleColumnLike, parent: DrizzleColumnLike): HasMany;

/**
 * The Drizzle condition selecting exactly the rows the residual allows:
 * `db.select().from(posts).leftJoin(...).where(drizzleWhere(r, { owner: posts.ownerId }))`.
 * Throws CannotFilter for an attribute the map lacks.
 */
export function drizzleWhere(
  residual: Residual,
  columns: Record<string, DrizzleColumnLike | HasMany>,
  options?: { dialect?: 'sqlite' | 'postgres' },
): SQL;

import type { Residual } from './index';

/** Where a resource attribute lives in the Prisma model. */
export type PrismaField =
  | {
      /** A scalar field, or a path through to-one relations: `'project.org'`. */
      field: string;
      type: 'string' | 'number' | 'boolean';
    }
  | {
      /** A to-many relation whose rows hold the list's elements in `element`. */
      field: string;
      type: 'list';
      element: string;
      elementType: 'string' | 'number' | 'boolean';
    };

/** A Prisma `where` input (structurally: AND/OR/NOT and field filters). */
export type PrismaWhere = Record<string, unknown>;

/**
 * The Prisma `where` selecting exactly the rows the residual allows:
 * `prisma.post.findMany({ where: prismaWhere(engine.residual(...), fields), take, skip })`.
 * Throws CannotFilter for an attribute the map lacks, and for a string-pattern test
 * on SQLite (Prisma's LIKE there folds case).
 */
export function prismaWhere(
  residual: Residual,
  fields: Record<string, PrismaField>,
  options?: { provider?: 'postgresql' | 'sqlite' },
): PrismaWhere;

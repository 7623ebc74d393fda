// The user directory, in a real SQLite database (sql.js: SQLite compiled to WebAssembly,
// in memory) read through Drizzle ORM, and its list query filtered by the policy:
// `GET /api/users` returns the users the caller may `users:read` (their organization
// only, and no one above their own role: the seed's "org scope" and "ceiling"), a page
// at a time. The rules run in SQLite as a Drizzle condition (`drizzleWhere` over the
// residual), so a page is a page of allowed rows.

import initSqlJs from 'sql.js';
import { drizzle, type SQLJsDatabase } from 'drizzle-orm/sql-js';
import { sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { asc } from 'drizzle-orm';
import type { Engine, Principal } from 'warden-policy';
import { drizzleWhere } from 'warden-policy/drizzle';

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull(),
  org: text('org'),
  role: text('role').notNull(),
});

export interface DirectoryUser {
  id: string;
  email: string;
  org: string | null;
  role: string;
}

const ROLES = ['member', 'member', 'manager', 'org_admin', 'member', 'platform_admin'];
const ORGS = ['o1', 'o2', 'o1', 'o3', null];

/** The directory: the sign-in users (`first`), then 90 more across organizations. */
export function seedDirectory(first: DirectoryUser[]): DirectoryUser[] {
  const out = [...first];
  for (let i = 1; i <= 90; i++) {
    const role = ROLES[i % ROLES.length];
    // Platform admins belong to no organization.
    const org = role === 'platform_admin' ? null : ORGS[(i * 3) % ORGS.length];
    out.push({ id: `u${String(i).padStart(3, '0')}`, email: `user${i}@coaching.test`, org, role });
  }
  return out;
}

export async function openDirectory(first: DirectoryUser[]): Promise<SQLJsDatabase> {
  const SQL = await initSqlJs();
  const sqlite = new SQL.Database();
  sqlite.run('CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, org TEXT, role TEXT NOT NULL)');
  const db = drizzle(sqlite);
  db.insert(users).values(seedDirectory(first)).run();
  return db;
}

/** One page of the users `principal` may read, in id order. */
export function readableUsers(db: SQLJsDatabase, engine: Engine, principal: Principal | null, limit: number, offset: number): DirectoryUser[] {
  const residual = engine.residual({ action: 'users:read', resourceType: 'user', principal });
  const where = drizzleWhere(residual, { id: users.id, org: users.org, role: users.role }, { dialect: 'sqlite' });
  return db.select().from(users).where(where).orderBy(asc(users.id)).limit(limit).offset(offset).all();
}

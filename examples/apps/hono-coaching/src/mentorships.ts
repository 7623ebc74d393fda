// Mentorships in the same SQLite database (sql.js, read through Drizzle ORM), with their
// participants as rows of a second table, and the list query of the seed's File Upload
// ACL: `GET /api/mentorships/attachable` returns the mentorships the caller may
// `files:attach` to ("a direct participant of the mentorship or an OrgAdmin/Manager of
// the mentorship's organization"), a page at a time. `resource.participants` is a list
// attribute: `hasMany` maps it to the participants table, and `drizzleWhere` asks for it
// with an EXISTS subquery, so a page is a page of allowed rows.

import { asc, inArray, sql } from 'drizzle-orm';
import type { SQLJsDatabase } from 'drizzle-orm/sql-js';
import { sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { Engine, Principal } from 'warden-policy';
import { drizzleWhere, hasMany } from 'warden-policy/drizzle';

export const mentorships = sqliteTable('mentorships', {
  id: text('id').primaryKey(),
  org: text('org').notNull(),
});

export const participants = sqliteTable('mentorship_participants', {
  mentorshipId: text('mentorship_id').notNull(),
  userId: text('user_id').notNull(),
});

export interface Mentorship {
  id: string;
  org: string;
  participants: string[];
}

const ORGS = ['o1', 'o2', 'o1', 'o3'];
// The sign-in users (m1, m2, oa1, pa1) and directory users (u001 ...) take part.
const PEOPLE = ['m1', 'u003', 'oa1', 'm2', 'u010', 'pa1', 'u021', 'm1', 'u007'];

/** 60 mentorships across three organizations, each with one to three participants. */
export function seedMentorships(): Mentorship[] {
  return Array.from({ length: 60 }, (_, i) => {
    const n = 1 + (i % 3);
    const people = new Set(Array.from({ length: n }, (_, k) => PEOPLE[(i * 2 + k * 5) % PEOPLE.length]));
    return { id: `ms${String(i + 1).padStart(3, '0')}`, org: ORGS[(i * 7) % ORGS.length], participants: [...people].sort() };
  });
}

/** Creates and fills both tables in the app's database. */
export function createMentorships(db: SQLJsDatabase): void {
  db.run(sql.raw('CREATE TABLE mentorships (id TEXT PRIMARY KEY, org TEXT NOT NULL)'));
  db.run(sql.raw('CREATE TABLE mentorship_participants (mentorship_id TEXT NOT NULL REFERENCES mentorships (id), user_id TEXT NOT NULL)'));
  const rows = seedMentorships();
  db.insert(mentorships).values(rows.map(({ id, org }) => ({ id, org }))).run();
  db.insert(participants).values(rows.flatMap((m) => m.participants.map((userId) => ({ mentorshipId: m.id, userId })))).run();
}

/** One page of the mentorships `principal` may attach files to, in id order. */
export function attachableMentorships(db: SQLJsDatabase, engine: Engine, principal: Principal | null, limit: number, offset: number): Mentorship[] {
  const residual = engine.residual({ action: 'files:attach', resourceType: 'mentorship', principal });
  const where = drizzleWhere(
    residual,
    {
      id: mentorships.id,
      org: mentorships.org,
      participants: hasMany(participants, participants.userId, participants.mentorshipId, mentorships.id),
    },
    { dialect: 'sqlite' },
  );
  const page = db.select().from(mentorships).where(where).orderBy(asc(mentorships.id)).limit(limit).offset(offset).all();
  if (page.length === 0) return [];
  // The page's participants, for the answer: one query for the page, not one per row.
  const people = new Map<string, string[]>(page.map((m) => [m.id, []]));
  const rows = db
    .select()
    .from(participants)
    .where(inArray(participants.mentorshipId, [...people.keys()]))
    .orderBy(asc(participants.userId))
    .all();
  for (const p of rows) people.get(p.mentorshipId)?.push(p.userId);
  return page.map((m) => ({ ...m, participants: people.get(m.id) ?? [] }));
}

// The posts table, in a real SQLite database (sql.js: SQLite compiled to WebAssembly,
// in memory), and its list query filtered by the policy: `GET /api/posts/editable`
// returns the posts the caller may `posts:write`, a page at a time, with the policy's
// "author or admin" rule run by SQLite as a parameterized WHERE fragment
// (`engine.sqlFilter`), so a page is a page of allowed rows.

import initSqlJs, { type Database, type SqlValue } from 'sql.js';
import type { ColumnMap, Engine, Principal } from 'warden-policy';

export interface Post {
  id: string;
  author: string;
  title: string;
}

const AUTHORS = ['u1', 'u2', 'a1', 'someone-else', 'u1', 'writer-9'];

/** The seeded posts: `p1` by the editor (u1), `p2` by someone else, then 118 more. */
export function seedPosts(): Post[] {
  const posts: Post[] = [
    { id: 'p1', author: 'u1', title: 'by the editor' },
    { id: 'p2', author: 'someone-else', title: 'by someone else' },
  ];
  for (let i = 3; i <= 120; i++) {
    posts.push({ id: `p${String(i).padStart(3, '0')}`, author: AUTHORS[(i * 7) % AUTHORS.length], title: `post ${i}` });
  }
  return posts;
}

export async function openDatabase(): Promise<Database> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run('CREATE TABLE posts (id TEXT PRIMARY KEY, author_id TEXT NOT NULL, title TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO posts VALUES (?, ?, ?)');
  for (const p of seedPosts()) insert.run([p.id, p.author, p.title]);
  insert.free();
  return db;
}

function rows(db: Database, sql: string, params: SqlValue[]): Post[] {
  const st = db.prepare(sql);
  st.bind(params);
  const out: Post[] = [];
  while (st.step()) {
    const [id, author, title] = st.get() as [string, string, string];
    out.push({ id, author, title });
  }
  st.free();
  return out;
}

export function getPost(db: Database, id: string): Post | undefined {
  return rows(db, 'SELECT id, author_id, title FROM posts WHERE id = ?', [id])[0];
}

export function setTitle(db: Database, id: string, title: string): void {
  db.run('UPDATE posts SET title = ? WHERE id = ?', [title, id]);
}

/** Resource attributes -> columns (policies/security-patterns.warden: `post { author }`). */
const COLUMNS: ColumnMap = {
  table: 'posts',
  columns: {
    id: { column: 'id', type: 'string' },
    author: { column: 'author_id', type: 'string' },
  },
};

/** One page of the posts `principal` may write, in id order. */
export function editablePosts(db: Database, engine: Engine, principal: Principal | null, limit: number, offset: number): Post[] {
  const f = engine.sqlFilter({ action: 'posts:write', resourceType: 'post', principal, columns: COLUMNS, dialect: 'sqlite' });
  // SQLite has no boolean type: sql.js binds 1/0.
  const params: SqlValue[] = f.params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
  return rows(db, `SELECT id, author_id, title FROM posts WHERE ${f.sql} ORDER BY id LIMIT ? OFFSET ?`, [...params, limit, offset]);
}

'use strict';
// The docs-app workload of core/benches/docs_app.rs, in JS: the same generator
// (SplitMix64, seed 3), so the 4,096 requests are the very ones the Rust bench decides;
// the same rules by hand (`hand`), and the same policy for Casbin.

const path = require('node:path');

const POLICY = path.join(__dirname, '..', '..', '..', 'examples', '00-tour.warden');
const MASK = (1n << 64n) - 1n;
const RANK = { viewer: 0, editor: 1, admin: 2 };

class Rng {
  constructor(seed) { this.s = BigInt(seed); }
  next() {
    this.s = (this.s + 0x9E3779B97F4A7C15n) & MASK;
    let z = this.s;
    z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & MASK;
    return z ^ (z >> 31n);
  }
  below(n) { return Number(this.next() % BigInt(n)); }
}

function world(nCases = 4096) {
  const rng = new Rng(3);
  const users = [];
  for (let i = 0; i < 1000; i++) {
    const r = rng.below(20);
    users.push({ id: `u${i}`, org: `o${i % 10}`, role: r === 0 ? 'admin' : r <= 5 ? 'editor' : 'viewer' });
  }
  const posts = [];
  for (let j = 0; j < 10000; j++) {
    const a = users[(j * 7) % 1000];
    posts.push({ author: a.id, org: a.org });
  }
  const cases = [];
  for (let n = 0; n < nCases; n++) {
    const a = rng.below(20);
    const action = a <= 9 ? 'posts:read' : a <= 14 ? 'posts:write' : a === 15 ? 'posts:delete' : a === 16 ? 'users:read' : 'users:write';
    const user = rng.below(users.length);
    const org = user % 10;
    if (action.startsWith('posts')) {
      const k = rng.below(4);
      let p;
      if (k === 0) p = ((143 * user) % 1000) + 1000 * rng.below(10);
      else if (k === 1 || k === 2) p = 10 * rng.below(1000) + ((3 * org) % 10);
      else p = rng.below(posts.length);
      cases.push({ user, action, post: p, target: null });
    } else {
      const k = rng.below(4);
      const t = k === 0 ? rng.below(users.length) : 10 * rng.below(100) + org;
      cases.push({ user, action, post: null, target: t });
    }
  }
  return { users, posts, cases };
}

function request({ users, posts }, c) {
  const u = users[c.user];
  const resource = c.post !== null
    ? { type: 'post', id: `p${c.post}`, author: posts[c.post].author, org: posts[c.post].org }
    : { type: 'user', id: users[c.target].id, org: users[c.target].org, role: users[c.target].role };
  return { principal: { id: u.id, roles: [u.role], org: u.org }, action: c.action, resource };
}

function hand({ users, posts }, c) {
  const u = users[c.user];
  const rank = RANK[u.role];
  let granted;
  if (c.action === 'posts:read' || c.action === 'users:read') granted = true;
  else if (c.action === 'posts:write' || c.action === 'posts:delete') granted = rank >= 1;
  else granted = c.action.startsWith('users:') && rank === 2;
  if (!granted) return false;
  const admin = rank === 2;
  if (c.post !== null) {
    const p = posts[c.post];
    const writes = c.action === 'posts:write' || c.action === 'posts:delete';
    return (!writes || p.author === u.id || admin) && (p.org === u.org || admin);
  }
  const t = users[c.target];
  const ceiling = (c.action === 'users:write' || c.action === 'users:delete') && RANK[t.role] > rank;
  return (t.org === u.org || admin) && !ceiling;
}

const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub.role, p.sub) && r.act == p.act && (r.obj.kind != "post" || (r.act != "posts:write" && r.act != "posts:delete") || r.obj.author == r.sub.id || r.sub.rank >= 2) && (r.obj.org == r.sub.org || r.sub.rank >= 2) && (r.obj.kind != "user" || (r.act != "users:write" && r.act != "users:delete") || r.obj.rank <= r.sub.rank)
`;

const CASBIN_POLICY = [
  ['p', 'viewer', 'posts:read'], ['p', 'viewer', 'users:read'],
  ['p', 'editor', 'posts:write'], ['p', 'editor', 'posts:delete'],
  ['p', 'admin', 'users:read'], ['p', 'admin', 'users:write'], ['p', 'admin', 'users:delete'],
  ['g', 'editor', 'viewer'], ['g', 'admin', 'editor'],
];

function casbinArgs({ users, posts }, c) {
  const u = users[c.user];
  const sub = { id: u.id, role: u.role, org: u.org, rank: RANK[u.role] };
  if (c.post !== null) {
    const p = posts[c.post];
    return [sub, { kind: 'post', id: `p${c.post}`, org: p.org, author: p.author, rank: 0 }, c.action];
  }
  const t = users[c.target];
  return [sub, { kind: 'user', id: t.id, org: t.org, author: '', rank: RANK[t.role] }, c.action];
}

// A copy of `s` in a string of its own, as a database driver or a JSON body gives a
// host: not the generator's string object, so neither its cached hash nor its identity
// is shared with any other request.
function own(s) {
  return Buffer.from(s, 'utf8').toString('utf8');
}

// `n` distinct requests of the mix (the generator's repeats dropped), each owning its
// strings, in a shuffled order: `cold_rows` of core/benches/docs_app.rs (same
// generator, same shuffle), as request objects. The action and the resource type stay
// the host's literals, as `Row::request` takes them. Returns `{ w, cases, reqs }`.
function cold(n) {
  const w = world(n + Math.floor(n / 2));
  const seen = new Set();
  const cases = [];
  for (const c of w.cases) {
    if (cases.length === n) break;
    const key = `${c.user} ${c.action} ${c.post !== null ? `p${c.post}` : `u${c.target}`}`;
    if (seen.has(key)) continue;
    seen.add(key);
    cases.push(c);
  }
  if (cases.length !== n) throw new Error('the mix has fewer distinct requests than asked');
  const rng = new Rng(7);
  for (let i = cases.length - 1; i >= 1; i--) {
    const j = rng.below(i + 1);
    [cases[i], cases[j]] = [cases[j], cases[i]];
  }
  const reqs = cases.map((c) => {
    const u = w.users[c.user];
    let resource;
    if (c.post !== null) {
      const p = w.posts[c.post];
      resource = { type: 'post', id: own(`p${c.post}`), author: own(p.author), org: own(p.org) };
    } else {
      const t = w.users[c.target];
      resource = { type: 'user', id: own(t.id), org: own(t.org), role: own(t.role) };
    }
    return { principal: { id: own(u.id), roles: [own(u.role)], org: own(u.org) }, action: c.action, resource };
  });
  return { w, cases, reqs };
}

module.exports = { POLICY, world, request, hand, cold, CASBIN_MODEL, CASBIN_POLICY, casbinArgs };

//! The decision cache: an LRU keyed on exactly what a decision can depend on.
//!
//! The key is the action class, the resource type, the principal's declared roles and
//! the values of every attribute the applicable rules read; two requests with equal keys
//! get equal decisions, so a hit is always correct. Building the key allocates, which
//! is why the cache is off by default (see docs/BENCHMARKS.md).

use crate::authorize::Verdict;
use crate::request::{Request, Value};
use crate::tables::Tables;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use warden_lang::ast::Root;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyVal {
    Missing,
    Bool(bool),
    /// f64 bits, with -0.0 folded into 0.0 so that equal numbers hash alike.
    Num(u64),
    Str(String),
    List(Vec<KeyVal>),
    Map(Vec<(String, KeyVal)>),
}

impl KeyVal {
    fn of(v: Option<&Value>) -> KeyVal {
        match v {
            None | Some(Value::Null) => KeyVal::Missing,
            Some(Value::Bool(b)) => KeyVal::Bool(*b),
            Some(Value::Number(n)) => KeyVal::Num(if *n == 0.0 { 0 } else { n.to_bits() }),
            Some(Value::String(s)) => KeyVal::Str(s.clone()),
            Some(Value::List(l)) => KeyVal::List(l.iter().map(|x| KeyVal::of(Some(x))).collect()),
            Some(Value::Map(m)) => KeyVal::Map(
                m.0.iter()
                    .map(|(k, v)| (k.clone(), KeyVal::of(Some(v))))
                    .collect(),
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    class: u32,
    ty: u32,
    /// `None`: anonymous.
    roles: Option<Vec<u32>>,
    reads: Vec<KeyVal>,
}

/// Hit and miss counts since the engine loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Decisions answered from the cache.
    pub hits: u64,
    /// Decisions computed (and then cached, unless they read `now`).
    pub misses: u64,
}

#[derive(Debug)]
pub(crate) struct Cache {
    lru: Mutex<LruCache<Key, Verdict>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Cache {
    pub fn new(size: usize) -> Self {
        Cache {
            lru: Mutex::new(LruCache::new(
                NonZeroUsize::new(size).unwrap_or(NonZeroUsize::MIN),
            )),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    pub fn get_or(
        &self,
        t: &Tables,
        class: u32,
        ty: u32,
        req: &Request,
        compute: impl FnOnce() -> Verdict,
    ) -> Verdict {
        // A rule reading `now` may decide differently a second later: no key is exact.
        let Some(key) = key(t, class, ty, req) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return compute();
        };
        // A poisoned lock only means another thread panicked mid-update; the LRU is
        // still a valid map, so keep using it rather than failing open or closed.
        if let Some(v) = self.lru.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return *v;
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let v = compute();
        self.lru
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(key, v);
        v
    }
}

fn key(t: &Tables, class: u32, ty: u32, req: &Request) -> Option<Key> {
    let roles = req.principal.as_ref().map(|p| {
        let mut ids: Vec<u32> = p.roles.iter().filter_map(|n| t.role_id(n)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    });
    let mut reads = Vec::new();
    if let Some(entry) = t.entry(class, ty) {
        for &i in entry
            .allows
            .iter()
            .chain(entry.denies.iter())
            .chain(entry.reports.iter())
        {
            let Some(rule) = t.rules.get(i as usize) else {
                continue;
            };
            if rule.reads_now {
                return None;
            }
            for (root, path) in rule.reads.iter() {
                reads.push(read(req, *root, path));
            }
        }
    }
    Some(Key {
        class,
        ty,
        roles,
        reads,
    })
}

fn read(req: &Request, root: Root, path: &[Box<str>]) -> KeyVal {
    let Some((first, rest)) = path.split_first() else {
        return KeyVal::Missing;
    };
    let mut v = match root {
        Root::Principal => req.principal.as_ref().map(|p| match &**first {
            "id" => KeyVal::Str(p.id.clone()),
            "roles" => KeyVal::List(p.roles.iter().map(|r| KeyVal::Str(r.clone())).collect()),
            n => KeyVal::of(p.attrs.get(n)),
        }),
        Root::Resource => req.resource.as_ref().map(|r| match &**first {
            "id" => KeyVal::Str(r.id.clone()),
            "type" => KeyVal::Str(r.ty.clone()),
            n => KeyVal::of(r.attrs.get(n)),
        }),
        Root::Context => Some(KeyVal::of(req.context.get(first))),
        Root::Input | Root::Request => None,
    }
    .unwrap_or(KeyVal::Missing);
    for name in rest {
        v = match v {
            KeyVal::Map(m) => m
                .into_iter()
                .find(|(k, _)| **k == **name)
                .map_or(KeyVal::Missing, |(_, v)| v),
            _ => KeyVal::Missing,
        };
    }
    v
}

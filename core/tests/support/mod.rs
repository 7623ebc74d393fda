//! Shared pieces of the HTTP tests: a demo policy, a small counting store and a store
//! that always fails.
#![allow(dead_code, reason = "each test file uses part of it")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use warden::{Admission, LimitSpec, LimitStore, StoreError};

pub const POLICY: &str = r#"policy app
role viewer
role editor > viewer
role admin > editor
principal { id: string, roles: set<role>, org: string, api_client: string? }
input { size: number, prefix: string }
limit login: 5 per 15m by ip strict
limit api: 100 per 1m by principal.api_client ?? ip
headers {
  Strict-Transport-Security: "max-age=31536000; includeSubDomains" if env == "production"
  X-Content-Type-Options: "nosniff"
  X-Frame-Options: "DENY"
  Content-Security-Policy: "default-src 'self'"
}
cors {
  origins: "https://app.example.com"
  origins: "http://localhost:3000" if env != "production"
  methods: GET, POST
  headers: Content-Type, Authorization
  expose: X-Request-Id
  credentials: true
  max_age: 1h
}
route /api/** {
  require auth
  limit api
}
route POST /api/auth/login {
  public
  limit login
}
route GET, POST /api/admin/** { require role admin }
route /dashboard/**, /profile/** {
  require auth else redirect "/login?callbackUrl={path}"
}
route POST /api/cron/** {
  public
  require header authorization == "Bearer " + secret(CRON_SECRET) else 401
}
route POST /api/files/presign {
  require input.size <= 500MB else 413
  require input.prefix matches /^[A-Za-z0-9_\/-]{1,64}$/ and not input.prefix contains ".." else 400
}
route /docs/** {
  header set Content-Security-Policy: "default-src 'self'; script-src 'self' 'unsafe-inline'"
  header drop X-Frame-Options
}
route /internal/** { require request.ip == "10.0.0.1" else 404 }
"#;

pub const CRON: &str = "test-cron-secret-0123456789abcdef";

/// (limit id, key) -> (window start, requests admitted in it).
type Windows = HashMap<(u32, Vec<u8>), (u64, u64)>;

/// A fixed-window counter: enough to drive the engine's handling of admissions.
#[derive(Debug, Default)]
pub struct CountingStore {
    windows: Mutex<Windows>,
    pub calls: AtomicUsize,
}

impl LimitStore for CountingStore {
    fn check(&self, spec: &LimitSpec, key: &[u8], now_us: u64) -> Result<Admission, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut w = self.windows.lock().unwrap();
        let start = now_us - now_us % spec.period_us;
        let slot = w.entry((spec.id, key.to_vec())).or_insert((start, 0));
        if slot.0 != start {
            *slot = (start, 0);
        }
        let reset_us = start + spec.period_us - now_us;
        let allowed = slot.1 < spec.count;
        if allowed {
            slot.1 += 1;
        }
        Ok(Admission {
            allowed,
            limit: spec.count,
            remaining: spec.count - slot.1,
            reset_us,
            retry_after_us: if allowed { 0 } else { reset_us },
        })
    }

    fn clear(&self) {
        self.windows.lock().unwrap().clear();
    }
}

/// A store whose backend is always down.
#[derive(Debug, Default)]
pub struct DownStore;

impl LimitStore for DownStore {
    fn check(&self, _: &LimitSpec, _: &[u8], _: u64) -> Result<Admission, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    fn clear(&self) {}
}

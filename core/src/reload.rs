//! `Warden`: a handle whose policy can be swapped atomically while requests are served,
//! with an optional candidate policy deciding beside it until it is promoted.

use crate::{CandidateError, Engine, LoadError, Options};
use arc_swap::ArcSwap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// A live engine with atomic reload. Readers never lock; a reload that fails to load
/// leaves the working policy in place and returns the error.
#[derive(Debug)]
pub struct Warden {
    current: ArcSwap<Engine>,
    options: Options,
    /// The candidate's file name, text and engine: kept so that a reload of the live
    /// policy keeps the candidate beside it, and promotion loads the same text.
    candidate: Mutex<Option<Candidate>>,
}

#[derive(Debug)]
struct Candidate {
    name: String,
    text: String,
    engine: Arc<Engine>,
}

impl Warden {
    /// Serve `engine`; later reloads load with `options`.
    pub fn new(engine: Engine, options: Options) -> Self {
        Warden {
            current: ArcSwap::from_pointee(engine),
            options,
            candidate: Mutex::new(None),
        }
    }

    /// Load a policy file ([`Engine::from_file`]) and serve it.
    pub fn from_file(path: impl AsRef<Path>, options: Options) -> Result<Self, LoadError> {
        let engine = Engine::from_file(path, options.clone())?;
        Ok(Warden::new(engine, options))
    }

    /// Load a policy from text ([`Engine::from_source`]) and serve it.
    pub fn from_source(name: &str, text: &str, options: Options) -> Result<Self, LoadError> {
        let engine = Engine::from_source(name, text, options.clone())?;
        Ok(Warden::new(engine, options))
    }

    /// The engine in force; keep the `Arc` for as long as one request (or batch) needs it.
    pub fn engine(&self) -> Arc<Engine> {
        self.current.load_full()
    }

    /// Load `text` and swap it in; on error the old policy stays.
    ///
    /// ```
    /// use warden::{Options, Principal, Request, Warden};
    ///
    /// let warden = Warden::from_source("app.warden", "policy app\nrole a\n", Options::default())
    ///     .map_err(|e| e.to_string())?;
    /// let read = Request::new("docs:read").principal(Principal::new("u1").role("a"));
    /// assert!(!warden.engine().authorize(&read).allowed);
    ///
    /// warden
    ///     .reload_source("app.warden", "policy app\nrole a\ngrant a: docs:read\n")
    ///     .map_err(|e| e.to_string())?;
    /// assert!(warden.engine().authorize(&read).allowed);
    ///
    /// // A policy that fails to load never replaces the working one.
    /// assert!(warden.reload_source("app.warden", "policy app\ngrant nobody: x\n").is_err());
    /// assert!(warden.engine().authorize(&read).allowed);
    /// # Ok::<(), String>(())
    /// ```
    pub fn reload_source(&self, name: &str, text: &str) -> Result<(), LoadError> {
        let engine = Engine::from_source(name, text, self.options.clone());
        self.swap(engine)
    }

    /// Serve `engine` if it loaded; counts the reload either way (with metrics on).
    /// A candidate keeps running beside the new engine.
    fn swap(&self, engine: Result<Engine, LoadError>) -> Result<(), LoadError> {
        if let Some(m) = &self.options.metrics {
            m.reload(engine.is_ok());
        }
        let engine = engine?;
        let candidate = self
            .candidate
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = candidate.as_ref() {
            // Cannot fail: the candidate was accepted beside an engine of these options.
            let _ = engine.set_candidate(Some(Arc::clone(&c.engine)));
        }
        self.current.store(Arc::new(engine));
        Ok(())
    }

    /// Load `text` as a candidate and run it beside the live policy (replacing any
    /// candidate): every decision is also made by the candidate, the live policy
    /// answers, and each disagreement is logged with the candidate's answer and counted
    /// (see [`Engine::set_candidate`]). The candidate loads with this handle's options
    /// but without their decision log, metrics or store: its limits count in a memory
    /// store of its own. Needs a decision log or metrics in the options.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use warden::metrics::Metrics;
    /// use warden::{Options, Principal, Request, Warden};
    ///
    /// let metrics = Arc::new(Metrics::new());
    /// let warden = Warden::from_source("app.warden", "policy app\nrole a\ngrant a: docs:read\n",
    ///     Options::default().metrics(Arc::clone(&metrics))).map_err(|e| e.to_string())?;
    /// warden.set_candidate_source("app.warden", "policy app\nrole a\ngrant a: docs:*\n")
    ///     .map_err(|e| e.to_string())?;
    ///
    /// let write = Request::new("docs:write").principal(Principal::new("u1").role("a"));
    /// assert!(!warden.engine().authorize(&write).allowed); // the live policy answers
    /// assert_eq!(metrics.snapshot().candidate_disagreements, 1);
    ///
    /// warden.promote_candidate().map_err(|e| e.to_string())?;
    /// assert!(warden.engine().authorize(&write).allowed);
    /// assert!(warden.engine().candidate().is_none());
    /// # Ok::<(), String>(())
    /// ```
    pub fn set_candidate_source(&self, name: &str, text: &str) -> Result<(), CandidateError> {
        if self.options.decision_log.is_none() && self.options.metrics.is_none() {
            return Err(CandidateError::NotObserved);
        }
        let mut options = self.options.clone();
        options.decision_log = None;
        options.metrics = None;
        options.store = None;
        let engine = Arc::new(Engine::from_source(name, text, options)?);
        let mut candidate = self
            .candidate
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.current
            .load()
            .set_candidate(Some(Arc::clone(&engine)))?;
        *candidate = Some(Candidate {
            name: name.to_owned(),
            text: text.to_owned(),
            engine,
        });
        Ok(())
    }

    /// Read a policy file and run it as the candidate ([`Warden::set_candidate_source`]).
    pub fn set_candidate_file(&self, path: impl AsRef<Path>) -> Result<(), CandidateError> {
        let (name, text) = crate::engine::read_policy(path.as_ref())?;
        self.set_candidate_source(&name, &text)
    }

    /// Stop the candidate; decisions are made once again.
    pub fn clear_candidate(&self) {
        let mut candidate = self
            .candidate
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *candidate = None;
        let _ = self.current.load().set_candidate(None);
    }

    /// Swap the candidate in as the live policy, loaded again with this handle's
    /// options (decision log, metrics, store), and stop running it beside. Without a
    /// candidate, or when the text no longer loads (a secret it needs is gone), the
    /// live policy stays and the candidate keeps running.
    pub fn promote_candidate(&self) -> Result<(), CandidateError> {
        // Held throughout: a candidate set meanwhile is not cleared unpromoted.
        let mut candidate = self
            .candidate
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(c) = candidate.as_ref() else {
            return Err(CandidateError::NoCandidate);
        };
        let engine = Engine::from_source(&c.name, &c.text, self.options.clone());
        if let Some(m) = &self.options.metrics {
            m.reload(engine.is_ok());
        }
        let engine = engine?;
        *candidate = None;
        self.current.store(Arc::new(engine));
        Ok(())
    }

    /// Load a file and swap it in; on error the old policy stays.
    ///
    /// ```
    /// use warden::{Options, Principal, Request, Warden};
    ///
    /// let dir = std::env::temp_dir().join(format!("warden-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    /// let path = dir.join("app.warden");
    /// std::fs::write(&path, "policy app\nrole a\n").map_err(|e| e.to_string())?;
    /// let warden = Warden::from_file(&path, Options::default()).map_err(|e| e.to_string())?;
    /// let read = Request::new("docs:read").principal(Principal::new("u1").role("a"));
    ///
    /// std::fs::write(&path, "policy app\nrole a\ngrant a: docs:read\n").map_err(|e| e.to_string())?;
    /// warden.reload_file(&path).map_err(|e| e.to_string())?;
    /// assert!(warden.engine().authorize(&read).allowed);
    ///
    /// // A broken file is reported, and the working policy stays in force.
    /// std::fs::write(&path, "policy app\nrole b > nobody\n").map_err(|e| e.to_string())?;
    /// let err = warden.reload_file(&path).err().ok_or("an unknown parent role loaded")?;
    /// assert!(err.to_string().contains("app.warden"));
    /// assert!(warden.engine().authorize(&read).allowed);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), String>(())
    /// ```
    pub fn reload_file(&self, path: impl AsRef<Path>) -> Result<(), LoadError> {
        let engine = Engine::from_file(path, self.options.clone());
        self.swap(engine)
    }
}

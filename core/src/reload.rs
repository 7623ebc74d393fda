//! `Warden`: a handle whose policy can be swapped atomically while requests are served.

use crate::{Engine, LoadError, Options};
use arc_swap::ArcSwap;
use std::path::Path;
use std::sync::Arc;

/// A live engine with atomic reload. Readers never lock; a reload that fails to load
/// leaves the working policy in place and returns the error.
#[derive(Debug)]
pub struct Warden {
    current: ArcSwap<Engine>,
    options: Options,
}

impl Warden {
    /// Serve `engine`; later reloads load with `options`.
    pub fn new(engine: Engine, options: Options) -> Self {
        Warden {
            current: ArcSwap::from_pointee(engine),
            options,
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
    fn swap(&self, engine: Result<Engine, LoadError>) -> Result<(), LoadError> {
        if let Some(m) = &self.options.metrics {
            m.reload(engine.is_ok());
        }
        self.current.store(Arc::new(engine?));
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

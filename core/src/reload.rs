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
    pub fn reload_source(&self, name: &str, text: &str) -> Result<(), LoadError> {
        let engine = Engine::from_source(name, text, self.options.clone())?;
        self.current.store(Arc::new(engine));
        Ok(())
    }

    /// Load a file and swap it in; on error the old policy stays.
    pub fn reload_file(&self, path: impl AsRef<Path>) -> Result<(), LoadError> {
        let engine = Engine::from_file(path, self.options.clone())?;
        self.current.store(Arc::new(engine));
        Ok(())
    }
}

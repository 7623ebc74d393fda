//! `Warden::watch` (feature `watch`): reload a policy file when it changes on disk.
//!
//! The watcher follows the file's directory, not the file: an editor's save often
//! writes a temporary file and renames it over the policy (a new inode a watch on the
//! old file would never see again), and a Kubernetes ConfigMap swaps a symlink beside
//! it. Every event in the directory starts a quiet period ([`WatchOptions::debounce`]);
//! when it ends the file is read once, and loaded only if its bytes differ from the
//! last ones tried (a save of the same text, or an event about another file, loads
//! nothing). The load goes through [`Warden::reload_source`], so it is atomic and
//! counted like any reload: a file read half-written just fails to load, the old
//! policy keeps serving, and the next write (one more event) loads the whole file.

use crate::{LoadError, Warden};
use notify::{RecursiveMode, Watcher as _};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What a watch reports after each load it tried: `Ok` when the new policy is in
/// force, else the error (the old policy still serving).
pub type OnReload = Box<dyn FnMut(Result<(), &LoadError>) + Send>;

/// How [`Warden::watch`] reloads.
pub struct WatchOptions {
    /// Quiet time after the last change before the file is read (default 100 ms):
    /// an editor's save (several writes and a rename) loads once.
    pub debounce: Duration,
    /// Called on the watcher's thread after every load tried (a panic in it is caught:
    /// the watch goes on). Without one, a failed load is written to standard error
    /// (the diagnostics, `file:line:col`).
    pub on_reload: Option<OnReload>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(100),
            on_reload: None,
        }
    }
}

impl std::fmt::Debug for WatchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchOptions")
            .field("debounce", &self.debounce)
            .field("on_reload", &self.on_reload.is_some())
            .finish()
    }
}

impl WatchOptions {
    /// Reports each load tried to `f` (see [`WatchOptions::on_reload`]).
    pub fn on_reload(mut self, f: impl FnMut(Result<(), &LoadError>) + Send + 'static) -> Self {
        self.on_reload = Some(Box::new(f));
        self
    }

    /// Sets the quiet period (see [`WatchOptions::debounce`]).
    pub fn debounce(mut self, d: Duration) -> Self {
        self.debounce = d;
        self
    }
}

enum Msg {
    Changed,
    Stop,
}

/// A running watch: dropping it (or [`Watch::stop`]) stops watching and waits for a
/// load in progress to finish, so no reload happens after it is gone.
#[derive(Debug)]
pub struct Watch {
    /// Dropped first: no event is queued once stopping has begun.
    watcher: Option<notify::RecommendedWatcher>,
    tx: mpsc::Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl Watch {
    /// Stops watching; returns once the watcher's thread has ended.
    pub fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        self.watcher = None;
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            // Stopped from inside `on_reload`: the thread ends after the callback.
            if t.thread().id() != thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.shut();
    }
}

impl Warden {
    /// Reloads `path` whenever it changes, until the returned [`Watch`] is dropped.
    /// The policy in force is not reloaded at the start: load it from the same file
    /// first ([`Warden::from_file`]). An error when the directory cannot be watched
    /// (it does not exist, or the OS refuses another watch).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::{Duration, Instant};
    /// use warden::{Options, Principal, Request, Warden, WatchOptions};
    ///
    /// let dir = std::env::temp_dir().join(format!("warden-watch-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    /// let path = dir.join("app.warden");
    /// std::fs::write(&path, "policy app\nrole a\n").map_err(|e| e.to_string())?;
    /// let warden = Arc::new(Warden::from_file(&path, Options::default()).map_err(|e| e.to_string())?);
    /// let watch = warden.watch(&path, WatchOptions::default()).map_err(|e| e.to_string())?;
    ///
    /// std::fs::write(&path, "policy app\nrole a\ngrant a: docs:read\n").map_err(|e| e.to_string())?;
    /// let read = Request::new("docs:read").principal(Principal::new("u1").role("a"));
    /// let start = Instant::now();
    /// while !warden.engine().authorize(&read).allowed && start.elapsed() < Duration::from_secs(10) {
    ///     std::thread::sleep(Duration::from_millis(20));
    /// }
    /// assert!(warden.engine().authorize(&read).allowed);
    /// drop(watch);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), String>(())
    /// ```
    pub fn watch(
        self: &Arc<Self>,
        path: impl AsRef<Path>,
        options: WatchOptions,
    ) -> io::Result<Watch> {
        let path = absolute(path.as_ref())?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let (tx, rx) = mpsc::channel();
        let events = tx.clone();
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            // Reading a file is not a change; an error (a lost event queue) may hide one.
            let changed = match ev {
                Ok(ev) => !matches!(
                    ev.kind,
                    notify::EventKind::Access(
                        notify::event::AccessKind::Read
                            | notify::event::AccessKind::Open(_)
                            | notify::event::AccessKind::Close(notify::event::AccessMode::Read)
                    )
                ),
                Err(_) => true,
            };
            if changed {
                let _ = events.send(Msg::Changed);
            }
        })
        .map_err(io_error)?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(io_error)?;
        let warden = Arc::clone(self);
        let thread = thread::Builder::new()
            .name("warden-watch".into())
            .spawn(move || run(&warden, &path, options, &rx))?;
        Ok(Watch {
            watcher: Some(watcher),
            tx,
            thread: Some(thread),
        })
    }
}

/// `path` made absolute against the working directory now, so a later `chdir` of the
/// host changes nothing.
fn absolute(path: &Path) -> io::Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(path))
    }
}

fn io_error(e: notify::Error) -> io::Error {
    match e.kind {
        notify::ErrorKind::Io(io) => io,
        _ => io::Error::other(e.to_string()),
    }
}

/// The watcher's thread: wait for a change, let the changes settle, load. A file
/// rewritten without pause for longer than the quiet period loads when it pauses.
fn run(warden: &Warden, path: &Path, mut options: WatchOptions, rx: &mpsc::Receiver<Msg>) {
    let name = path.display().to_string();
    let mut last: Option<Vec<u8>> = None;
    while let Ok(Msg::Changed) = rx.recv() {
        loop {
            match rx.recv_timeout(options.debounce) {
                Ok(Msg::Changed) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let result = match std::fs::read(path) {
            Ok(bytes) if last.as_deref() == Some(&bytes[..]) => continue,
            Ok(bytes) => {
                let r = match std::str::from_utf8(&bytes) {
                    Ok(text) => warden.reload_source(&name, text),
                    // The same error `Engine::from_file` gives.
                    Err(_) => warden.reload_file(path),
                };
                last = Some(bytes);
                r
            }
            // Gone between a delete and a create (an editor that does not rename):
            // the old policy stays, and the create is one more event.
            Err(_) => {
                last = None;
                warden.reload_file(path)
            }
        };
        match (&mut options.on_reload, &result) {
            (Some(f), r) => {
                // A panicking callback loses its report, not the watch.
                let report = std::panic::AssertUnwindSafe(|| f(r.as_ref().map(|_| ())));
                let _ = std::panic::catch_unwind(report);
            }
            (None, Err(e)) => eprintln!("warden: reload refused, the old policy stays: {e}"),
            (None, Ok(())) => {}
        }
    }
}

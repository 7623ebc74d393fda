//! `--watch`: run a command, then again each time a file under its paths changes.
//!
//! Changes are collected for a short quiet period before re-running, so that an
//! editor's save (often several writes and renames) triggers one run. Stops on Ctrl-C
//! (the process is ended) or when the watcher fails.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// Quiet period after the last change before running again.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// Run `f` once, or with `watch`, forever on every change. Returns `f`'s last status.
pub fn maybe(watch: bool, paths: &[PathBuf], mut f: impl FnMut() -> u8) -> u8 {
    let status = f();
    if !watch {
        return status;
    }
    match run(paths, &mut f) {
        Ok(()) => status,
        Err(e) => {
            eprintln!("error: --watch: {e}");
            2
        }
    }
}

fn run(paths: &[PathBuf], f: &mut dyn FnMut() -> u8) -> Result<(), String> {
    use notify::{RecursiveMode, Watcher};
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev {
            if !matches!(ev.kind, notify::EventKind::Access(_)) {
                let _ = tx.send(());
            }
        }
    })
    .map_err(|e| e.to_string())?;
    for p in paths.iter().filter(|p| p.as_os_str() != "-") {
        watcher
            .watch(p, RecursiveMode::Recursive)
            .map_err(|e| format!("cannot watch `{}`: {e}", p.display()))?;
    }
    eprintln!("watching for changes (Ctrl-C to stop)");
    while rx.recv().is_ok() {
        while rx.recv_timeout(DEBOUNCE).is_ok() {}
        eprintln!("\n== change detected, running again");
        let status = f();
        eprintln!("== exit status {status}; watching for changes");
    }
    Ok(())
}

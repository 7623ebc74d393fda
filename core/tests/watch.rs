//! `Warden::watch` under load: threads decide without pause while the policy file is
//! rewritten over and over (in place, torn in two writes, renamed over, broken). Every
//! decision must be the old or the new policy's whole answer, failed loads must leave
//! the old policy serving and be counted, and the last good version must end up in
//! force.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use warden::metrics::Metrics;
use warden::{Engine, Options, Principal, Request, Warden, WatchOptions};

/// Two good versions with opposite answers, each ending inside a block, so that any
/// prefix cut in that block fails to load instead of being a smaller valid policy.
const A: &str = "policy p\nrole r\ngrant r: a:read\nresource doc {\n  org: string\n}\n";
const B: &str = "policy p\nrole r\ngrant r: a:write\ndeny a:write on doc if resource.org == \"x\"\nresource doc {\n  org: string\n}\n";
/// Broken versions: a checker error, a syntax error, and a key that does not parse
/// from a secret (whose value must never show in the diagnostics).
const UNKNOWN_ROLE: &str = "policy p\nrole r\ngrant nobody: a:read\n";
const SYNTAX: &str = "policy p\nrole r\ngrant r a:read ((\n";
const BAD_KEY: &str =
    "policy p\nrole r\ngrant r: a:read\nauth jwt {\n  algorithms: RS256\n  keys: public_key(AUTH_PUBLIC_KEY)\n}\n";
const SECRET: &str = "not-a-pem-hunter2";

fn requests() -> [Request; 4] {
    let p = || Principal::new("u1").role("r");
    [
        Request::new("a:read").principal(p()),
        Request::new("a:write").principal(p()),
        Request::new("a:write")
            .principal(p())
            .resource(warden::Resource::new("doc", "d1").attr("org", "x")),
        Request::new("a:delete").principal(p()),
    ]
}

type Answers = Vec<(bool, Option<String>)>;

/// The answers of one engine to every request: one snapshot, so a mixture of two
/// policies would show as a set that is neither version's.
fn answers(engine: &Engine, reqs: &[Request]) -> Answers {
    reqs.iter()
        .map(|r| {
            let d = engine.authorize(r);
            (d.allowed, d.rule.map(str::to_owned))
        })
        .collect()
}

fn expected(name: &str, text: &str) -> Answers {
    let e = Engine::from_source(name, text, Options::default()).expect("a good version loads");
    answers(&e, &requests())
}

/// A small deterministic generator: the same schedule on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn write_renamed(path: &Path, text: &str, n: u64) {
    let tmp = path.with_file_name(format!(".p.warden.{n}.tmp"));
    std::fs::write(&tmp, text).expect("write temp");
    std::fs::rename(&tmp, path).expect("rename over the policy");
}

fn write_torn(path: &Path, text: &str, pause: Duration) {
    use std::io::Write;
    let cut = text.find("org: str").expect("the cut point") + "org: str".len();
    let mut f = std::fs::File::create(path).expect("create");
    f.write_all(&text.as_bytes()[..cut]).expect("first half");
    f.sync_data().expect("flush the first half");
    std::thread::sleep(pause);
    f.write_all(&text.as_bytes()[cut..]).expect("second half");
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-watch-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn decisions_stay_whole_while_the_file_is_rewritten() {
    let dir = temp_dir("load");
    let path = dir.join("p.warden");
    let name = path.display().to_string();
    let (ans_a, ans_b) = (expected(&name, A), expected(&name, B));
    assert_ne!(ans_a, ans_b);

    std::fs::write(&path, A).expect("write A");
    let metrics = Arc::new(Metrics::new());
    let options = Options {
        secrets_from_env: false,
        ..Options::default()
    }
    .secret("AUTH_PUBLIC_KEY", SECRET)
    .metrics(Arc::clone(&metrics));
    let warden = Arc::new(Warden::from_file(&path, options).expect("A loads"));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let oks = Arc::new(AtomicU64::new(0));
    let watch = {
        let (errors, oks) = (Arc::clone(&errors), Arc::clone(&oks));
        warden
            .watch(
                &path,
                WatchOptions::default()
                    .debounce(Duration::from_millis(30))
                    .on_reload(move |r| match r {
                        Ok(()) => {
                            oks.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => errors.lock().expect("errors").push(e.to_string()),
                    }),
            )
            .expect("watch")
    };

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new([0u64; 2]));
    let deciders: Vec<_> = (0..3)
        .map(|_| {
            let (warden, stop, seen) = (Arc::clone(&warden), Arc::clone(&stop), Arc::clone(&seen));
            let (ans_a, ans_b) = (ans_a.clone(), ans_b.clone());
            std::thread::spawn(move || {
                let reqs = requests();
                let mut n = [0u64; 2];
                while !stop.load(Ordering::Relaxed) {
                    let got = answers(&warden.engine(), &reqs);
                    if got == ans_a {
                        n[0] += 1;
                    } else if got == ans_b {
                        n[1] += 1;
                    } else {
                        panic!("a decision set of neither version: {got:?}");
                    }
                }
                let mut s = seen.lock().expect("seen");
                s[0] += n[0];
                s[1] += n[1];
            })
        })
        .collect();

    let mut rng = Lcg(22);
    for i in 0..80u64 {
        let text = match rng.next(6) {
            0 | 1 => A,
            2 | 3 => B,
            4 => [UNKNOWN_ROLE, SYNTAX, BAD_KEY][rng.next(3) as usize],
            _ => "",
        };
        let pause = Duration::from_millis(rng.next(80));
        match (text, rng.next(3)) {
            ("", _) => write_torn(&path, if i % 2 == 0 { A } else { B }, pause),
            (t, 0) => std::fs::write(&path, t).expect("write in place"),
            (t, _) => write_renamed(&path, t, i),
        }
        std::thread::sleep(Duration::from_millis(rng.next(80)));
    }

    // A broken version on disk: refused and counted, the previous policy still serving.
    write_renamed(&path, A, 1000);
    wait_for("A in force", Duration::from_secs(10), || {
        answers(&warden.engine(), &requests()) == ans_a
    });
    let failed_before = metrics.snapshot().reload_failures;
    write_renamed(&path, BAD_KEY, 1001);
    wait_for("the refused reload", Duration::from_secs(10), || {
        metrics.snapshot().reload_failures > failed_before
    });
    assert_eq!(answers(&warden.engine(), &requests()), ans_a);
    // The final good version is served.
    write_renamed(&path, B, 1002);
    wait_for("B in force", Duration::from_secs(10), || {
        answers(&warden.engine(), &requests()) == ans_b
    });

    stop.store(true, Ordering::Relaxed);
    for d in deciders {
        d.join().expect("a decider panicked");
    }
    drop(watch);

    let snap = metrics.snapshot();
    let seen = *seen.lock().expect("seen");
    eprintln!(
        "decision sets: {} A, {} B; reloads {} ok, {} refused",
        seen[0], seen[1], snap.reloads, snap.reload_failures
    );
    assert!(seen[0] > 0 && seen[1] > 0, "both versions served: {seen:?}");
    assert!(snap.reloads >= 3, "{snap:?}");
    assert!(snap.reload_failures >= 1, "{snap:?}");
    // Each reload tried was reported once, as counted.
    let errors = errors.lock().expect("errors");
    assert_eq!(errors.len() as u64, snap.reload_failures);
    assert_eq!(oks.load(Ordering::Relaxed), snap.reloads);
    for e in errors.iter() {
        assert!(
            e.contains(&format!("{name}:")),
            "diagnostics cite the file: {e}"
        );
        assert!(!e.contains("hunter2"), "a secret in the diagnostics: {e}");
    }
    assert!(
        errors.iter().any(|e| e.contains("AUTH_PUBLIC_KEY")),
        "the bad key is named: {errors:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stopping_the_watch_stops_reloading() {
    let dir = temp_dir("stop");
    let path = dir.join("p.warden");
    std::fs::write(&path, A).expect("write A");
    let warden = Arc::new(Warden::from_file(&path, Options::default()).expect("A loads"));
    let name = path.display().to_string();
    let watch = warden
        .watch(
            &path,
            WatchOptions::default().debounce(Duration::from_millis(20)),
        )
        .expect("watch");
    write_renamed(&path, B, 1);
    wait_for("B in force", Duration::from_secs(10), || {
        answers(&warden.engine(), &requests()) == expected(&name, B)
    });
    watch.stop();
    write_renamed(&path, A, 2);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(answers(&warden.engine(), &requests()), expected(&name, B));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_directory_that_does_not_exist_is_an_error() {
    let warden = Arc::new(Warden::from_source("p.warden", A, Options::default()).expect("A loads"));
    let missing = temp_dir("missing").join("nowhere").join("p.warden");
    assert!(warden.watch(&missing, WatchOptions::default()).is_err());
}

#[test]
fn a_panicking_callback_loses_its_report_not_the_watch() {
    let dir = temp_dir("panic");
    let path = dir.join("p.warden");
    std::fs::write(&path, A).expect("write A");
    let name = path.display().to_string();
    let warden = Arc::new(Warden::from_file(&path, Options::default()).expect("A loads"));
    let watch = warden
        .watch(
            &path,
            WatchOptions::default()
                .debounce(Duration::from_millis(20))
                .on_reload(|_| panic!("a host callback's bug")),
        )
        .expect("watch");
    write_renamed(&path, B, 1);
    wait_for("B in force", Duration::from_secs(10), || {
        answers(&warden.engine(), &requests()) == expected(&name, B)
    });
    write_renamed(&path, A, 2);
    wait_for("A in force again", Duration::from_secs(10), || {
        answers(&warden.engine(), &requests()) == expected(&name, A)
    });
    drop(watch);
    let _ = std::fs::remove_dir_all(&dir);
}

//! Tidy: the module layering of `warden-lang` (`lang/src`) and `warden` (`core/src`).
//!
//! The layer order is read from one place, the two `tidy:layers` tables of
//! docs/ARCHITECTURE.md (bottom layer first). This test fails when
//!
//! - a module imports one of a higher layer (an "upward" import),
//! - modules import each other in a circle (at file level, whatever their layers),
//! - a source file is missing from its crate's table, or the table names a module
//!   that no longer exists.
//!
//! "Imports" are the paths a file names: `use` declarations and paths written inline
//! (`crate::lower::missing_secret(..)`), resolved through re-exports to the file that
//! defines the item. A `pub use` is a re-export, not a dependency of the re-exporting
//! module; `#[cfg(test)]` items are skipped (a module's tests may build an `Engine`).
//! `mod x;` declarations are not imports: a parent may declare lower modules.
//!
//! Run `TIDY_PRINT=1 cargo test -p warden-policy --test tidy -- --nocapture` to print the
//! module graph.

#![allow(clippy::panic, reason = "tests")]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------
// The layer tables

/// One crate's layers, bottom first: (layer name, module patterns). A pattern is a
/// module path relative to `src/` without `.rs` (`http/check`, `lib`), or a folder
/// ending in `/` (`limit/`) for every file under it. The most specific pattern wins.
#[derive(Debug, Clone)]
struct Layers {
    layers: Vec<(String, Vec<String>)>,
}

/// Parse the markdown table after `<!-- tidy:layers NAME -->`: one row per layer,
/// bottom first; the first column names the layer, the second lists its modules in
/// backticks.
fn parse_layers(md: &str, name: &str) -> Result<Layers, String> {
    let marker = format!("<!-- tidy:layers {name} -->");
    let start = md
        .find(&marker)
        .ok_or_else(|| format!("no `{marker}` in docs/ARCHITECTURE.md"))?;
    let mut layers = Vec::new();
    let mut in_table = false;
    for line in md[start + marker.len()..].lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            if in_table {
                break;
            }
            continue;
        }
        in_table = true;
        let cols: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cols.len() < 2 || cols[0] == "layer" || cols[0].starts_with("---") {
            continue;
        }
        let mut modules = Vec::new();
        let mut rest = cols[1];
        while let Some(a) = rest.find('`') {
            let Some(b) = rest[a + 1..].find('`') else {
                break;
            };
            modules.push(rest[a + 1..a + 1 + b].trim_end_matches(".rs").to_string());
            rest = &rest[a + b + 2..];
        }
        if modules.is_empty() {
            return Err(format!("layer `{}` of {name} lists no module", cols[0]));
        }
        layers.push((cols[0].to_string(), modules));
    }
    if layers.is_empty() {
        return Err(format!("the `{marker}` table has no rows"));
    }
    Ok(Layers { layers })
}

impl Layers {
    /// The layer index of a module file (`http/check`, `http/mod`, `lib`), by its most
    /// specific pattern.
    fn of(&self, module: &str) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for (i, (_, pats)) in self.layers.iter().enumerate() {
            for p in pats {
                let fits = if p.ends_with('/') {
                    module.starts_with(p.as_str())
                } else {
                    module == p
                };
                if fits && best.is_none_or(|(len, _)| p.len() > len) {
                    best = Some((p.len(), i));
                }
            }
        }
        best.map(|(_, i)| i)
    }
}

// ---------------------------------------------------------------------------------
// Tokens: identifiers and punctuation, without comments, strings and chars

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

fn tokenize(src: &str) -> Vec<(Tok, usize)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < b.len() {
        let c = b[i];
        let start_line = line;
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if b[i] == b'\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            b'"' => i = skip_string(b, i + 1, &mut line),
            b'r' | b'b' if raw_string_start(b, i).is_some() => {
                let (hashes, body) = raw_string_start(b, i).unwrap_or_default();
                i = body;
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                while i < b.len() && !b[i..].starts_with(&close) {
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += close.len();
            }
            b'b' if b.get(i + 1) == Some(&b'"') => i = skip_string(b, i + 2, &mut line),
            b'b' if b.get(i + 1) == Some(&b'\'') => i = skip_char(b, i + 1),
            b'\'' => {
                // A char literal (`'a'`, `'\n'`, `'\u{1F600}'`) or a lifetime (`'a`).
                if b.get(i + 1) == Some(&b'\\') {
                    i = skip_char(b, i);
                } else {
                    let ch_len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                    if b.get(i + 1 + ch_len) == Some(&b'\'') {
                        i += ch_len + 2;
                    } else {
                        i += 1;
                    }
                }
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let s = i;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                out.push((Tok::Ident(src[s..i].to_string()), start_line));
            }
            b':' if b.get(i + 1) == Some(&b':') => {
                out.push((Tok::Path, line));
                i += 2;
            }
            c if c.is_ascii_whitespace() || c.is_ascii_digit() => i += 1,
            c if c.is_ascii() => {
                out.push((Tok::Punct(char::from(c)), line));
                i += 1;
            }
            _ => i += src[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

/// `r"`, `r#"`, `br"`, `br#"`: the number of `#` and where the body starts.
fn raw_string_start(b: &[u8], i: usize) -> Option<(usize, usize)> {
    // Not the tail of an identifier such as `for` or `bar`.
    if i > 0 && (b[i - 1] == b'_' || b[i - 1].is_ascii_alphanumeric()) {
        return None;
    }
    let mut j = i;
    if b.get(j) == Some(&b'b') {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while b.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    (b.get(j) == Some(&b'"')).then_some((hashes, j + 1))
}

fn skip_string(b: &[u8], mut i: usize, line: &mut usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => {
                *line += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    i
}

/// From the opening `'` of a char literal to after its closing `'`.
fn skip_char(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Drop every item under `#[cfg(test)]` (up to its `;` or its closing `}`).
fn without_tests(toks: Vec<(Tok, usize)>) -> Vec<(Tok, usize)> {
    let cfg_test: Vec<Tok> = ["#", "[", "cfg", "(", "test", ")", "]"]
        .iter()
        .map(|s| match *s {
            "cfg" | "test" => Tok::Ident((*s).to_string()),
            p => Tok::Punct(p.chars().next().unwrap_or(' ')),
        })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let here: Vec<&Tok> = toks[i..]
            .iter()
            .take(cfg_test.len())
            .map(|t| &t.0)
            .collect();
        if here.len() == cfg_test.len() && here.iter().zip(&cfg_test).all(|(a, b)| *a == b) {
            i += cfg_test.len();
            let mut depth = 0i32;
            while i < toks.len() {
                match toks[i].0 {
                    Tok::Punct('{') => depth += 1,
                    Tok::Punct('}') => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    Tok::Punct(';') if depth == 0 => {
                        i += 1;
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
            continue;
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------
// Paths a file names

/// A path named by a file: its segments as written, where, and whether it is a
/// re-export (`pub use`) rather than a use.
#[derive(Debug, Clone)]
struct Named {
    segs: Vec<String>,
    line: usize,
    /// The name it binds in the file's module (`use` only).
    binds: Option<String>,
    reexport: bool,
}

fn ident(t: Option<&(Tok, usize)>) -> Option<&str> {
    match t {
        Some((Tok::Ident(s), _)) => Some(s),
        _ => None,
    }
}

/// Every `use` tree and every inline path starting with `crate`, `super`, `self` or
/// one of `local` (names of child modules and of `use`-bound modules).
fn named_paths(toks: &[(Tok, usize)]) -> Vec<Named> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if ident(toks.get(i)) == Some("use") {
            let reexport = is_pub_before(toks, i);
            let line = toks[i].1;
            let mut j = i + 1;
            if toks.get(j).map(|t| &t.0) == Some(&Tok::Path) {
                j += 1;
            }
            parse_use_tree(toks, &mut j, &mut Vec::new(), line, reexport, &mut out);
            i = j;
            continue;
        }
        let starts_path = matches!(ident(toks.get(i)), Some("crate" | "super" | "self"))
            && toks.get(i + 1).map(|t| &t.0) == Some(&Tok::Path)
            && (i == 0 || toks[i - 1].0 != Tok::Path);
        if starts_path {
            let line = toks[i].1;
            let mut segs = vec![ident(toks.get(i)).unwrap_or_default().to_string()];
            let mut j = i + 1;
            while toks.get(j).map(|t| &t.0) == Some(&Tok::Path) {
                match ident(toks.get(j + 1)) {
                    Some(s) => segs.push(s.to_string()),
                    None => break,
                }
                j += 2;
            }
            out.push(Named {
                segs,
                line,
                binds: None,
                reexport: false,
            });
            i = j;
            continue;
        }
        // Relative inline paths (`check::Prepared`), resolved later against the module.
        if let Some(first) = ident(toks.get(i)) {
            let at_start = i == 0 || toks[i - 1].0 != Tok::Path;
            if at_start
                && toks.get(i + 1).map(|t| &t.0) == Some(&Tok::Path)
                && first.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            {
                let line = toks[i].1;
                let mut segs = vec![first.to_string()];
                let mut j = i + 1;
                while toks.get(j).map(|t| &t.0) == Some(&Tok::Path) {
                    match ident(toks.get(j + 1)) {
                        Some(s) => segs.push(s.to_string()),
                        None => break,
                    }
                    j += 2;
                }
                out.push(Named {
                    segs,
                    line,
                    binds: None,
                    reexport: false,
                });
                i = j;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// `pub use`, `pub(crate) use`, `pub(super) use`.
fn is_pub_before(toks: &[(Tok, usize)], i: usize) -> bool {
    match i.checked_sub(1).and_then(|k| toks.get(k)) {
        Some((Tok::Ident(s), _)) if s == "pub" => true,
        Some((Tok::Punct(')'), _)) => {
            let mut k = i - 1;
            while k > 0 && toks[k].0 != Tok::Punct('(') {
                k -= 1;
            }
            ident(k.checked_sub(1).and_then(|k| toks.get(k))) == Some("pub")
        }
        _ => false,
    }
}

fn parse_use_tree(
    toks: &[(Tok, usize)],
    j: &mut usize,
    prefix: &mut Vec<String>,
    line: usize,
    reexport: bool,
    out: &mut Vec<Named>,
) {
    let base = prefix.len();
    loop {
        match toks.get(*j).map(|t| &t.0) {
            Some(Tok::Ident(s)) if s != "as" => {
                prefix.push(s.clone());
                *j += 1;
                if toks.get(*j).map(|t| &t.0) == Some(&Tok::Path) {
                    *j += 1;
                    continue;
                }
                // A leaf: `name` or `name as alias`.
                let mut bound = s.clone();
                if ident(toks.get(*j)) == Some("as") {
                    if let Some(a) = ident(toks.get(*j + 1)) {
                        bound = a.to_string();
                    }
                    *j += 2;
                }
                let mut segs = prefix.clone();
                if segs.last().is_some_and(|l| l == "self") {
                    segs.pop();
                    if bound == "self" {
                        bound = segs.last().cloned().unwrap_or_default();
                    }
                }
                out.push(Named {
                    segs,
                    line,
                    binds: Some(bound),
                    reexport,
                });
                break;
            }
            Some(Tok::Punct('{')) => {
                *j += 1;
                loop {
                    let keep = prefix.len();
                    parse_use_tree(toks, j, prefix, line, reexport, out);
                    prefix.truncate(keep);
                    match toks.get(*j).map(|t| &t.0) {
                        Some(Tok::Punct(',')) => *j += 1,
                        Some(Tok::Punct('}')) => {
                            *j += 1;
                            break;
                        }
                        _ => break,
                    }
                    if toks.get(*j).map(|t| &t.0) == Some(&Tok::Punct('}')) {
                        *j += 1;
                        break;
                    }
                }
                break;
            }
            Some(Tok::Punct('*')) => {
                *j += 1;
                out.push(Named {
                    segs: prefix.clone(),
                    line,
                    binds: None,
                    reexport,
                });
                break;
            }
            _ => break,
        }
    }
    prefix.truncate(base);
    if toks.get(*j).map(|t| &t.0) == Some(&Tok::Punct(';')) {
        *j += 1;
    }
}

// ---------------------------------------------------------------------------------
// The module graph of one crate

/// One source file: its module path (`http/check`, `http/mod`, `lib`) and text.
#[derive(Debug, Clone)]
struct Source {
    module: String,
    text: String,
}

/// An import of `to` by `from`, first seen at `line` of `from`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    line: usize,
}

/// A module's path as Rust sees it (`http::check`, `http` for `http/mod`, `` for `lib`).
fn rust_path(module: &str) -> Vec<String> {
    if module == "lib" {
        return Vec::new();
    }
    let m = module.strip_suffix("/mod").unwrap_or(module);
    m.split('/').map(str::to_string).collect()
}

struct Graph {
    /// Rust path -> file module.
    files: BTreeMap<Vec<String>, String>,
    /// Per file module: names bound by `use` -> absolute Rust path.
    bindings: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    edges: Vec<Edge>,
}

impl Graph {
    fn build(sources: &[Source]) -> Graph {
        let files: BTreeMap<Vec<String>, String> = sources
            .iter()
            .map(|s| (rust_path(&s.module), s.module.clone()))
            .collect();
        let mut g = Graph {
            files,
            bindings: BTreeMap::new(),
            edges: Vec::new(),
        };
        let mut named = BTreeMap::new();
        for s in sources {
            let paths = named_paths(&without_tests(tokenize(&s.text)));
            let here = rust_path(&s.module);
            let mut binds = BTreeMap::new();
            for n in &paths {
                if let (Some(b), Some(abs)) = (&n.binds, g.absolute(&here, &n.segs)) {
                    binds.insert(b.clone(), abs);
                }
            }
            g.bindings.insert(s.module.clone(), binds);
            named.insert(s.module.clone(), paths);
        }
        let mut edges = BTreeSet::new();
        for (module, paths) in &named {
            let here = rust_path(module);
            for n in paths.iter().filter(|n| !n.reexport) {
                // Inline paths through a name a `use` bound are that `use`'s edge.
                let abs = match g.absolute(&here, &n.segs) {
                    Some(a) => a,
                    None => continue,
                };
                let Some(to) = g.resolve(&abs, 0) else {
                    continue;
                };
                if &to != module {
                    edges.insert((module.clone(), to, n.line));
                }
            }
        }
        // One edge per (from, to), at its first line.
        let mut seen = BTreeSet::new();
        let mut sorted: Vec<_> = edges.into_iter().collect();
        sorted.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
        for (from, to, line) in sorted {
            if seen.insert((from.clone(), to.clone())) {
                g.edges.push(Edge { from, to, line });
            }
        }
        g
    }

    /// The absolute Rust path of `segs` as written in module `here`; `None` for paths
    /// into other crates.
    fn absolute(&self, here: &[String], segs: &[String]) -> Option<Vec<String>> {
        let first = segs.first()?;
        let mut cur: Vec<String> = match first.as_str() {
            "crate" => Vec::new(),
            "self" => here.to_vec(),
            "super" => {
                let mut p = here.to_vec();
                p.pop()?;
                p
            }
            name => {
                let mut child = here.to_vec();
                child.push(name.to_string());
                if self.files.contains_key(&child) {
                    child.pop();
                    child
                } else {
                    // A name a `use` of this module bound (`compile::compile`).
                    let file = self.files.get(here)?;
                    let bound = self.bindings.get(file)?.get(name)?;
                    let mut abs = bound.clone();
                    abs.extend(segs.iter().skip(1).cloned());
                    return Some(abs);
                }
            }
        };
        let mut rest = segs.iter().skip(1).peekable();
        while let Some(s) = rest.peek() {
            if s.as_str() != "super" {
                break;
            }
            cur.pop()?;
            rest.next();
        }
        if first != "crate" && first != "self" && first != "super" {
            cur.push(first.clone());
        }
        cur.extend(rest.cloned());
        Some(cur)
    }

    /// The file that defines what an absolute path names.
    fn resolve(&self, abs: &[String], depth: usize) -> Option<String> {
        if depth > 16 {
            return None;
        }
        let mut cur: Vec<String> = Vec::new();
        for (i, s) in abs.iter().enumerate() {
            let mut next = cur.clone();
            next.push(s.clone());
            if self.files.contains_key(&next) {
                cur = next;
                continue;
            }
            let file = self.files.get(&cur)?;
            if let Some(target) = self.bindings.get(file).and_then(|b| b.get(s)) {
                let mut t = target.clone();
                t.extend(abs.iter().skip(i + 1).cloned());
                if t != abs {
                    return self.resolve(&t, depth + 1);
                }
            }
            return Some(file.clone());
        }
        self.files.get(&cur).cloned()
    }
}

// ---------------------------------------------------------------------------------
// The checks

/// Every violation of one crate: upward imports, circles, files missing from the
/// table and table entries without a file.
fn check(crate_name: &str, layers: &Layers, sources: &[Source]) -> Vec<String> {
    let g = Graph::build(sources);
    let mut errors = Vec::new();
    for s in sources {
        if layers.of(&s.module).is_none() {
            errors.push(format!(
                "{crate_name}: `{}.rs` is in no layer of the tidy:layers table",
                s.module
            ));
        }
    }
    for (name, pats) in &layers.layers {
        for p in pats {
            let any = sources.iter().any(|s| {
                if p.ends_with('/') {
                    s.module.starts_with(p.as_str())
                } else {
                    s.module == *p
                }
            });
            if !any {
                errors.push(format!(
                    "{crate_name}: layer `{name}` names `{p}`, which is no module"
                ));
            }
        }
    }
    for e in &g.edges {
        if let (Some(a), Some(b)) = (layers.of(&e.from), layers.of(&e.to)) {
            if b > a {
                errors.push(format!(
                    "{crate_name}: upward import: `{}.rs:{}` (layer `{}`) uses `{}.rs` (layer `{}`)",
                    e.from, e.line, layers.layers[a].0, e.to, layers.layers[b].0
                ));
            }
        }
    }
    for cycle in circles(&g.edges) {
        errors.push(format!(
            "{crate_name}: import circle: {}",
            cycle
                .iter()
                .map(|m| format!("`{m}.rs`"))
                .collect::<Vec<_>>()
                .join(" <-> ")
        ));
    }
    errors
}

/// Strongly connected components of more than one module (Tarjan).
fn circles(edges: &[Edge]) -> Vec<Vec<String>> {
    let mut nodes: BTreeSet<&str> = BTreeSet::new();
    let mut adj: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in edges {
        nodes.insert(&e.from);
        nodes.insert(&e.to);
        adj.entry(&e.from).or_default().push(&e.to);
    }
    struct St<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(v: &'a str, adj: &BTreeMap<&'a str, Vec<&'a str>>, st: &mut St<'a>) {
        st.index.insert(v, st.next);
        st.low.insert(v, st.next);
        st.next += 1;
        st.stack.push(v);
        st.on.insert(v);
        for &w in adj.get(v).map(Vec::as_slice).unwrap_or_default() {
            if !st.index.contains_key(w) {
                visit(w, adj, st);
                let lw = st.low[w];
                let lv = st.low[v];
                st.low.insert(v, lv.min(lw));
            } else if st.on.contains(w) {
                let iw = st.index[w];
                let lv = st.low[v];
                st.low.insert(v, lv.min(iw));
            }
        }
        if st.low[v] == st.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                st.out.push(comp);
            }
        }
    }
    let mut st = St {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in nodes {
        if !st.index.contains_key(v) {
            visit(v, &adj, &mut st);
        }
    }
    st.out
}

// ---------------------------------------------------------------------------------
// The real tree

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_sources(src: &Path) -> Vec<Source> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<Source>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, base, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(base).unwrap_or(&p).with_extension("");
                let module = rel.to_string_lossy().replace('\\', "/");
                let text = fs::read_to_string(&p).unwrap_or_default();
                out.push(Source { module, text });
            }
        }
    }
    let mut out = Vec::new();
    walk(src, src, &mut out);
    out
}

fn architecture() -> String {
    fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap_or_default()
}

/// (crate name, its folder) for every crate the tables cover.
const CRATES: [(&str, &str); 2] = [("warden-lang", "lang"), ("warden", "core")];

#[test]
fn every_import_looks_down_and_none_runs_in_a_circle() {
    let md = architecture();
    let mut errors = Vec::new();
    for (name, dir) in CRATES {
        let sources = read_sources(&root().join(dir).join("src"));
        assert!(sources.len() > 5, "{dir}/src has no sources?");
        if std::env::var_os("TIDY_PRINT").is_some() {
            for e in Graph::build(&sources).edges {
                println!("{name}: {} -> {} (line {})", e.from, e.to, e.line);
            }
        }
        match parse_layers(&md, name) {
            Ok(layers) => errors.extend(check(name, &layers, &sources)),
            Err(e) => errors.push(e),
        }
    }
    assert!(
        errors.is_empty(),
        "module layering (docs/ARCHITECTURE.md, \"Layers\"):\n  {}",
        errors.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------
// The checker's own tests: it must fail on what it is there to refuse.

fn src(module: &str, text: &str) -> Source {
    Source {
        module: module.to_string(),
        text: text.to_string(),
    }
}

fn two_layers() -> Layers {
    parse_layers(
        "<!-- tidy:layers demo -->\n\n| layer | modules |\n| --- | --- |\n\
         | low | `value`, `store/` |\n| high | `engine`, `lib` |\n",
        "demo",
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_deliberate_upward_import_fails() {
    let layers = two_layers();
    let fine = [
        src(
            "lib",
            "mod engine; mod value; mod store; pub use engine::Engine;",
        ),
        src(
            "engine",
            "use crate::value::Value;\npub struct Engine(Value);",
        ),
        src("value", "pub struct Value;"),
        src("store/mod", "mod mem; pub use mem::Mem;"),
        src(
            "store/mem",
            "use super::super::value::Value; pub struct Mem(Value);",
        ),
    ];
    assert_eq!(check("demo", &layers, &fine), Vec::<String>::new());

    // The value layer reaching up into the engine, by `use`, by a re-export of the
    // crate root, and by an inline path.
    for upward in [
        "use crate::engine::Engine;\npub struct Value;",
        "use crate::Engine;\npub struct Value;",
        "pub struct Value;\nfn f() -> Option<crate::engine::Engine> { None }",
        "use crate::{engine::{self}, store::Mem};\npub struct Value;",
    ] {
        let mut bad = fine.to_vec();
        bad[2] = src("value", upward);
        let errors = check("demo", &layers, &bad);
        assert!(
            errors
                .iter()
                .any(|e| e.contains("upward import: `value.rs:") && e.contains("uses `engine.rs`")),
            "{upward:?} was not refused: {errors:?}"
        );
    }
}

#[test]
fn a_circle_within_one_layer_fails() {
    let layers = two_layers();
    let sources = [
        src("lib", "mod engine; mod value; mod store;"),
        src("engine", "pub struct Engine;"),
        src("value", "use crate::store::Mem; pub struct Value;"),
        src("store/mod", "mod mem; pub use mem::Mem;"),
        src("store/mem", "use crate::value::Value; pub struct Mem;"),
    ];
    let errors = check("demo", &layers, &sources);
    assert_eq!(
        errors,
        ["demo: import circle: `store/mem.rs` <-> `value.rs`"],
        "{errors:?}"
    );
}

#[test]
fn the_real_tree_with_a_deliberate_upward_import_fails() {
    // Evaluation reaching up into the facade: the kind of import the layers forbid.
    let md = architecture();
    let layers = parse_layers(&md, "warden").unwrap_or_else(|e| panic!("{e}"));
    let mut sources = read_sources(&root().join("core/src"));
    let eval = sources
        .iter_mut()
        .find(|s| s.module == "eval")
        .unwrap_or_else(|| panic!("core/src/eval.rs moved? update this test"));
    eval.text
        .push_str("\nfn upward(e: &crate::Engine) -> &str { e.name() }\n");
    let errors = check("warden", &layers, &sources);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("upward import: `eval.rs:")),
        "{errors:?}"
    );
}

#[test]
fn files_outside_the_table_and_stale_entries_fail() {
    let layers = two_layers();
    let sources = [
        src("lib", "mod engine; mod value; mod store; mod extra;"),
        src("engine", ""),
        src("value", ""),
        src("store/mod", ""),
        src("extra", ""),
    ];
    assert_eq!(
        check("demo", &layers, &sources),
        ["demo: `extra.rs` is in no layer of the tidy:layers table"]
    );
    let gone = [src("lib", ""), src("value", ""), src("store/mod", "")];
    assert_eq!(
        check("demo", &layers, &gone),
        ["demo: layer `high` names `engine`, which is no module"]
    );
}

#[test]
fn comments_strings_and_test_modules_are_not_imports() {
    let toks = without_tests(tokenize(
        "// use crate::engine::Engine;\n/* crate::engine */ const S: &str = \"crate::engine::x\";\n\
         const R: &str = r#\"use crate::engine;\"#; const C: char = '\"';\n\
         fn f<'a>(x: &'a str) -> &'a str { x }\n\
         #[cfg(test)]\nmod tests { use crate::engine::Engine; }\nuse crate::value::Value;",
    ));
    let named = named_paths(&toks);
    let segs: Vec<Vec<String>> = named.into_iter().map(|n| n.segs).collect();
    assert_eq!(segs, [vec!["crate", "value", "Value"]]);
}

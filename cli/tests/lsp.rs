//! `warden lsp` end to end: the built binary driven over stdio by a scripted JSON-RPC
//! session (framed with `Content-Length` as editors do): initialize, a broken policy
//! opened and its diagnostics published at the right range (columns in UTF-16 units),
//! formatting, hover, go to definition, a fix clearing the diagnostics, completion by
//! context (also while the line being typed does not parse), find references, rename
//! (exact edits, and refusals), bad requests answered with errors, shutdown and exit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    /// Messages read while waiting for another one.
    backlog: Vec<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        len = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.expect("a Content-Length header")];
                r.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Client {
            child,
            stdin,
            rx,
            backlog: Vec::new(),
            next_id: 0,
        }
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        let stdin = self.stdin.as_mut().unwrap();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message that `want` accepts; others wait in the backlog.
    fn wait(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&want) {
            return self.backlog.remove(i);
        }
        loop {
            let msg = self
                .rx
                .recv_timeout(Duration::from_secs(30))
                .expect("the server answers within 30 s");
            if want(&msg) {
                return msg;
            }
            self.backlog.push(msg);
        }
    }

    /// Send a request; its whole response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(|m| m["id"] == id && m.get("method").is_none())
    }

    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let n = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        n["params"]["diagnostics"].as_array().unwrap().clone()
    }
}

const URI: &str = "file:///nonexistent-warden-lsp-test/caf%C3%A9/app.warden";

/// Line 5 (0-based 4) names an undeclared role after a string holding `é` (1 UTF-16
/// unit, 2 bytes) and `😀` (2 units, 4 bytes).
const BROKEN: &str = "policy app\n\
role viewer\n\
role editor > viewer\n\
grant editor: pages:read, pages:write\n\
route /x { require header x-note ?? \"é😀\" != \"\" else 400 require role edtor }\n";

#[test]
fn a_scripted_session() {
    let mut c = Client::start();
    let init = c.request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["textDocumentSync"], 1, "{init}");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["definitionProvider"], true);
    assert_eq!(caps["documentFormattingProvider"], true);
    assert_eq!(caps["referencesProvider"], true);
    assert_eq!(caps["renameProvider"]["prepareProvider"], true, "{init}");
    let triggers = &caps["completionProvider"]["triggerCharacters"];
    assert!(triggers.as_array().unwrap().contains(&json!(".")), "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "warden");
    c.notify("initialized", json!({}));

    // A broken policy: the unknown role's diagnostic covers exactly `edtor`.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": URI, "languageId": "warden", "version": 1, "text": BROKEN}}),
    );
    let diags = c.diagnostics(URI);
    let line = BROKEN.lines().nth(4).unwrap();
    let byte = line.find("edtor").unwrap();
    let utf16 = line[..byte].encode_utf16().count();
    assert_eq!(byte - utf16, 3, "the line holds characters wider in UTF-8");
    let d = diags
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("edtor"))
        .unwrap_or_else(|| panic!("no diagnostic names `edtor`: {diags:#?}"));
    assert_eq!(d["severity"], 1, "{d}");
    assert_eq!(d["source"], "warden");
    assert_eq!(
        d["range"],
        json!({"start": {"line": 4, "character": utf16}, "end": {"line": 4, "character": utf16 + 5}}),
        "{d}"
    );
    assert!(
        d["message"].as_str().unwrap().contains("editor"),
        "did you mean: {d}"
    );

    // Hover and definition work on a policy that does not check yet.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": {"line": 2, "character": 7}}),
    );
    let text = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(text.contains("**role** `editor`"), "{hover}");
    assert!(text.contains("inherits: `viewer`"), "{hover}");
    assert!(text.contains("`pages:read`, `pages:write`"), "{hover}");
    let action = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": {"line": 3, "character": 30}}),
    );
    let text = action["result"]["contents"]["value"].as_str().unwrap();
    assert!(text.contains("**action** `pages:write`"), "{action}");
    assert!(text.contains("granted to: `editor`"), "{action}");
    let def = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": URI}, "position": {"line": 2, "character": 16}}),
    );
    assert_eq!(def["result"]["uri"], URI, "{def}");
    assert_eq!(
        def["result"]["range"],
        json!({"start": {"line": 1, "character": 5}, "end": {"line": 1, "character": 11}})
    );
    let nothing = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}),
    );
    assert!(
        nothing["result"]["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("**policy**"),
        "{nothing}"
    );

    // The fix clears the diagnostics; the fixed text then formats like `warden fmt`.
    let fixed = BROKEN
        .replace("edtor", "editor")
        .replace("role viewer", "role   viewer");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let diags = c.diagnostics(URI);
    assert!(
        diags.iter().all(|d| d["severity"] != 1),
        "errors remain: {diags:#?}"
    );
    let fmt = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = fmt["result"].as_array().unwrap_or_else(|| panic!("{fmt}"));
    assert_eq!(edits.len(), 1, "{fmt}");
    let expected = warden_lang::format_source(&fixed, &warden_lang::Limits::default()).unwrap();
    assert_eq!(edits[0]["newText"], expected);
    assert!(expected.contains("\nrole viewer\n"));
    assert_eq!(
        edits[0]["range"]["start"],
        json!({"line": 0, "character": 0})
    );
    assert_eq!(edits[0]["range"]["end"], json!({"line": 5, "character": 0}));

    // Bad parameters and unknown methods are errors, and the server keeps serving.
    let bad = c.request("textDocument/hover", json!({"textDocument": 7}));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    let unknown = c.request("textDocument/codeLens", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

    completion(&mut c);
    references_and_rename(&mut c);

    // Closing clears the document's diagnostics.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": URI}}),
    );
    assert!(c.diagnostics(URI).is_empty());

    let down = c.request("shutdown", Value::Null);
    assert_eq!(down["result"], Value::Null, "{down}");
    c.notify("exit", Value::Null);
    drop(c.stdin.take());
    let status = c.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

const NAV: &str = "file:///nonexistent-warden-lsp-test/nav.warden";

/// A policy that checks, using each kind of symbol; `é` before `viewer` on the route
/// line makes its UTF-16 columns differ from byte offsets.
const POLICY: &str = "policy app\n\
role viewer\n\
role editor > viewer\n\
grant editor: pages:read, pages:write\n\
principal { org: string }\n\
resource page { owner: string }\n\
allow pages:write on page if principal is editor and owns(principal.id, resource.owner)\n\
limit api: 10 per 1m by principal.id ?? ip\n\
route /api/** { require header x-note ?? \"é\" != \"\" else 400 require role viewer limit api }\n\
script {\n  fn owns(a, b) { a == b }\n}\n";

/// The LSP position (UTF-16 columns) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .encode_utf16()
        .count();
    json!({"line": line, "character": col})
}

/// The range of the name that starts the `nth` (0-based) occurrence of `needle` in
/// `text` (`"page if"`: the `page` before `if`).
fn range_of(text: &str, needle: &str, nth: usize) -> Value {
    let (at, _) = text.match_indices(needle).nth(nth).unwrap();
    let len = needle
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(needle.len());
    json!({"start": position(text, at), "end": position(text, at + len)})
}

fn change(c: &mut Client, uri: &str, version: i64, text: &str) {
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    );
    c.diagnostics(uri);
}

/// The labels offered at the end of `line`, typed as a new last line of POLICY.
fn labels_after(c: &mut Client, version: i64, line: &str) -> Vec<String> {
    let text = format!("{POLICY}{line}");
    change(c, NAV, version, &text);
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": NAV}, "position": position(&text, text.len())}),
    );
    r["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_owned())
        .collect()
}

fn completion(c: &mut Client) {
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": NAV, "languageId": "warden", "version": 1, "text": POLICY}}),
    );
    let diags = c.diagnostics(NAV);
    assert!(diags.iter().all(|d| d["severity"] != 1), "{diags:#?}");

    // After `require role ` only the roles, though the line does not parse yet.
    assert_eq!(
        labels_after(c, 2, "route /admin/** { require role "),
        ["viewer", "editor"]
    );
    // After `grant ROLE:` the declared actions, then the namespaces' patterns.
    assert_eq!(
        labels_after(c, 3, "grant viewer: "),
        ["pages:read", "pages:write", "pages:*"]
    );
    // After `principal.` the principal's attributes: declared and built in.
    let mut attrs = labels_after(c, 4, "deny pages:read if principal.");
    attrs.sort();
    assert_eq!(attrs, ["id", "org", "roles"]);
    assert_eq!(
        labels_after(c, 5, "deny pages:read on page if resource."),
        ["id", "owner"]
    );
    // A route's `limit` offers the limits; a declaration's keywords start a line.
    assert_eq!(labels_after(c, 6, "route /x {\n  limit "), ["api"]);
    let words = labels_after(c, 7, "rou");
    assert!(words.contains(&"route".to_owned()), "{words:?}");
    assert!(!words.contains(&"viewer".to_owned()), "{words:?}");
    // In a condition: keywords, roles and script functions.
    let words = labels_after(c, 8, "deny pages:read if ow");
    for w in ["owns", "editor", "not", "principal"] {
        assert!(words.contains(&w.to_owned()), "{w}: {words:?}");
    }

    // The item's edit replaces the word typed, `pages:` included.
    let text = format!("{POLICY}grant viewer: pages:re");
    change(c, NAV, 9, &text);
    let end = position(&text, text.len());
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": NAV}, "position": end}),
    );
    let read = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "pages:read")
        .unwrap_or_else(|| panic!("{r}"))
        .clone();
    assert_eq!(read["textEdit"]["newText"], "pages:read");
    assert_eq!(
        read["textEdit"]["range"],
        json!({"start": position(&text, text.len() - "pages:re".len()), "end": end})
    );
    change(c, NAV, 10, POLICY);
}

fn references_and_rename(c: &mut Client) {
    let at = |word: &str, nth: usize| range_of(POLICY, word, nth)["start"].clone();
    let refs = |c: &mut Client, pos: Value, decl: bool| {
        c.request(
            "textDocument/references",
            json!({"textDocument": {"uri": NAV}, "position": pos, "context": {"includeDeclaration": decl}}),
        )
    };

    // `viewer`: declared on line 2, used as editor's parent and by the route.
    let with = refs(c, at("viewer", 1), true);
    let expected: Vec<Value> = (0..3)
        .map(|n| json!({"uri": NAV, "range": range_of(POLICY, "viewer", n)}))
        .collect();
    assert_eq!(with["result"], json!(expected), "{with}");
    assert_eq!(
        expected[2]["range"]["start"]["character"],
        POLICY.lines().nth(8).unwrap().find("viewer").unwrap() - 1,
        "UTF-16 columns: `é` is 2 bytes, 1 unit"
    );
    let without = refs(c, at("viewer", 1), false);
    assert_eq!(without["result"], json!(expected[1..]), "{without}");
    // A limit, a resource type, a script function (its definition is in the script).
    let api = refs(c, at("api }", 0), true);
    assert_eq!(
        api["result"],
        json!([
            {"uri": NAV, "range": range_of(POLICY, "api:", 0)},
            {"uri": NAV, "range": range_of(POLICY, "api }", 0)},
        ]),
        "{api}"
    );
    let page = refs(c, at("page if", 0), false);
    assert_eq!(
        page["result"],
        json!([{"uri": NAV, "range": range_of(POLICY, "page if", 0)}]),
        "{page}"
    );
    let page = refs(c, at("page if", 0), true);
    assert_eq!(
        page["result"][0]["range"],
        range_of(POLICY, "page {", 0),
        "{page}"
    );
    let owns = refs(c, at("owns", 0), true);
    assert_eq!(
        owns["result"],
        json!([
            {"uri": NAV, "range": range_of(POLICY, "owns", 0)},
            {"uri": NAV, "range": range_of(POLICY, "owns", 1)},
        ]),
        "{owns}"
    );

    // Rename: prepare names the range; the edits cover every occurrence, exactly.
    let prep = c.request(
        "textDocument/prepareRename",
        json!({"textDocument": {"uri": NAV}, "position": at("viewer", 2)}),
    );
    assert_eq!(
        prep["result"],
        json!({"range": range_of(POLICY, "viewer", 2), "placeholder": "viewer"})
    );
    let rename = |c: &mut Client, pos: Value, name: &str| {
        c.request(
            "textDocument/rename",
            json!({"textDocument": {"uri": NAV}, "position": pos, "newName": name}),
        )
    };
    let r = rename(c, at("viewer", 0), "reader");
    let edits: Vec<Value> = (0..3)
        .map(|n| json!({"range": range_of(POLICY, "viewer", n), "newText": "reader"}))
        .collect();
    assert_eq!(r["result"], json!({"changes": {NAV: edits}}), "{r}");
    let r = rename(c, at("owns", 1), "is_owner");
    assert_eq!(
        r["result"],
        json!({"changes": {NAV: [
            {"range": range_of(POLICY, "owns", 0), "newText": "is_owner"},
            {"range": range_of(POLICY, "owns", 1), "newText": "is_owner"},
        ]}}),
        "{r}"
    );

    // Refusals: an error (RequestFailed) with a message saying why.
    let refused = |r: &Value, says: &str| {
        assert_eq!(r["error"]["code"], -32803, "{r}");
        let msg = r["error"]["message"].as_str().unwrap();
        assert!(msg.contains(says), "{msg}");
    };
    refused(
        &rename(c, at("viewer", 0), "editor"),
        "already has a role `editor`",
    );
    refused(&rename(c, at("viewer", 0), "view-er"), "not a valid name");
    // A reserved word parses as a role name here, but the checker refuses it.
    refused(
        &rename(c, at("viewer", 0), "principal"),
        "cannot rename the role `viewer` to `principal`",
    );
    refused(&rename(c, at("api:", 0), "api2 x"), "not a valid name");
    let kw = c.request(
        "textDocument/prepareRename",
        json!({"textDocument": {"uri": NAV}, "position": {"line": 0, "character": 2}}),
    );
    refused(&kw, "can be renamed");
}

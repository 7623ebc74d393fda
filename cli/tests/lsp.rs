//! `warden lsp` end to end: the built binary driven over stdio by a scripted JSON-RPC
//! session (framed with `Content-Length` as editors do): initialize, a broken policy
//! opened and its diagnostics published at the right range (columns in UTF-16 units),
//! formatting, hover, go to definition, a fix clearing the diagnostics, a bad request
//! answered with an error, shutdown and exit.
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
    let unknown = c.request("textDocument/rename", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

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

//! `warden lsp`: a language server over standard input and output (LSP 3.17, on
//! `lsp-server`, the transport rust-analyzer uses).
//!
//! Documents are synchronized whole (`TextDocumentSyncKind::FULL`: policies are
//! small). On open and on every change the server publishes the diagnostics of
//! `warden lint` (check errors when the policy does not check, else the checker's
//! warnings and the lint findings, with the nearest `warden.toml`). It formats like
//! `warden fmt`, hovers over roles, actions, limits, resource types, script functions
//! and keywords, completes names and keywords by context, and, for roles, limits,
//! resource types and script functions, jumps to the declaration, finds references
//! and renames.
//!
//! | module | owns |
//! | --- | --- |
//! | `document.rs` | the text, UTF-16 positions <-> byte offsets, the last tree that parsed |
//! | `features.rs` | hover text |
//! | `complete.rs` | completion items by the context before the cursor |
//! | `symbols.rs` | every declaration and use of roles, limits, resource types, functions |
//! | `navigate.rs` | definition, references, rename (validated) |

mod complete;
mod document;
mod features;
mod navigate;
mod symbols;

use crate::lint::lint_text;
use document::Document;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    Completion, Formatting, GotoDefinition, HoverRequest, PrepareRenameRequest, References, Rename,
    Request as _,
};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, DiagnosticSeverity,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DocumentFormattingParams, GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents,
    HoverParams, HoverProviderCapability, Location, MarkupContent, MarkupKind, NumberOrString,
    OneOf, PrepareRenameResponse, PublishDiagnosticsParams, ReferenceParams, RenameOptions,
    RenameParams, ServerCapabilities, TextDocumentPositionParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextEdit, Uri,
};
use std::collections::HashMap;
use std::error::Error;
use std::path::PathBuf;
use warden_lang::Limits;
use warden_lint::Config;

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Serve until the client says `exit`. Exit status 0 after a `shutdown`, 1 otherwise.
pub fn run() -> u8 {
    let (conn, io) = Connection::stdio();
    let outcome = serve(&conn);
    drop(conn);
    let joined = io.join();
    match (outcome, joined) {
        (Ok(()), Ok(())) => 0,
        (Err(e), _) => {
            eprintln!("error: warden lsp: {e}");
            1
        }
        (_, Err(e)) => {
            eprintln!("error: warden lsp: {e}");
            1
        }
    }
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: lsp_types::WorkDoneProgressOptions::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(complete::TRIGGERS.iter().map(|t| (*t).to_owned()).collect()),
            ..CompletionOptions::default()
        }),
        ..ServerCapabilities::default()
    }
}

fn serve(conn: &Connection) -> Result<()> {
    let (id, _params) = conn.initialize_start()?;
    conn.initialize_finish(
        id,
        serde_json::json!({
            "capabilities": capabilities(),
            "serverInfo": { "name": "warden", "version": env!("CARGO_PKG_VERSION") },
        }),
    )?;
    // Keyed by the URI's text (`Uri` caches parts of itself and is not a good key).
    let mut docs: HashMap<String, Document> = HashMap::new();
    for msg in &conn.receiver {
        match msg {
            Message::Request(req) => {
                if conn.handle_shutdown(&req)? {
                    return Ok(());
                }
                conn.sender.send(Message::Response(respond(&docs, req)))?;
            }
            Message::Notification(n) => {
                if let Some((uri, diags)) = notify(&mut docs, n) {
                    let params = PublishDiagnosticsParams::new(uri, diags, None);
                    conn.sender.send(Message::Notification(Notification::new(
                        PublishDiagnostics::METHOD.to_owned(),
                        params,
                    )))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// Update the documents; the diagnostics to publish, if the notification changed one.
fn notify(
    docs: &mut HashMap<String, Document>,
    n: Notification,
) -> Option<(Uri, Vec<lsp_types::Diagnostic>)> {
    let uri = match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let p: DidOpenTextDocumentParams = params(n.params)?;
            docs.insert(
                p.text_document.uri.as_str().to_owned(),
                Document::new(p.text_document.text),
            );
            p.text_document.uri
        }
        DidChangeTextDocument::METHOD => {
            let p: DidChangeTextDocumentParams = params(n.params)?;
            // Full synchronization: the last change holds the whole text.
            let text = p.content_changes.into_iter().last()?.text;
            let key = p.text_document.uri.as_str().to_owned();
            let doc = match docs.remove(&key) {
                Some(previous) => previous.replaced(text),
                None => Document::new(text),
            };
            docs.insert(key, doc);
            p.text_document.uri
        }
        DidCloseTextDocument::METHOD => {
            let p: DidCloseTextDocumentParams = params(n.params)?;
            docs.remove(p.text_document.uri.as_str());
            return Some((p.text_document.uri, Vec::new()));
        }
        _ => return None,
    };
    let doc = docs.get(uri.as_str())?;
    Some((uri.clone(), diagnostics(&uri, doc)))
}

/// A notification's parameters; malformed ones are reported on stderr and ignored (a
/// notification has no reply to carry an error).
fn params<P: serde::de::DeserializeOwned>(v: serde_json::Value) -> Option<P> {
    serde_json::from_value(v)
        .map_err(|e| eprintln!("warden lsp: ignored a notification with bad parameters: {e}"))
        .ok()
}

/// The file a `file:` URI names (percent-decoded), for finding `warden.toml`.
fn file_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

fn diagnostics(uri: &Uri, doc: &Document) -> Vec<lsp_types::Diagnostic> {
    // An unreadable `warden.toml` must not hide the policy's own diagnostics: lint with
    // the defaults and say so once, at the top.
    let (config, config_error) = match file_path(uri).map(|p| Config::discover(&p)) {
        Some(Ok(c)) => (c, None),
        Some(Err(e)) => (Config::default(), Some(e)),
        None => (Config::default(), None),
    };
    let mut out: Vec<lsp_types::Diagnostic> = lint_text(&doc.text, &config)
        .into_iter()
        .map(|d| {
            let severity = if d.is_error() {
                DiagnosticSeverity::ERROR
            } else {
                DiagnosticSeverity::WARNING
            };
            let mut message = d.message;
            if !d.label.is_empty() {
                message = format!("{message} ({})", d.label);
            }
            if let Some(help) = d.help {
                message = format!("{message}\nhelp: {help}");
            }
            let source = if warden_lint::registry::find(d.code).is_some() {
                "warden lint"
            } else {
                "warden"
            };
            lsp_types::Diagnostic {
                range: doc.range(d.span),
                severity: Some(severity),
                code: Some(NumberOrString::String(d.code.to_owned())),
                source: Some(source.to_owned()),
                message,
                ..lsp_types::Diagnostic::default()
            }
        })
        .collect();
    if let Some(e) = config_error {
        out.insert(
            0,
            lsp_types::Diagnostic {
                range: doc.range(warden_lang::ast::Span::new(0, 0)),
                severity: Some(DiagnosticSeverity::WARNING),
                source: Some("warden lint".to_owned()),
                message: format!("warden.toml not used: {e}"),
                ..lsp_types::Diagnostic::default()
            },
        );
    }
    out
}

/// A request's failure: the JSON-RPC error code and the message.
type Failure = (i32, String);

fn respond(docs: &HashMap<String, Document>, req: Request) -> Response {
    let id = req.id.clone();
    let doc = |uri: &Uri| docs.get(uri.as_str());
    let result: std::result::Result<serde_json::Value, Failure> = match req.method.as_str() {
        Formatting::METHOD => request::<DocumentFormattingParams>(req)
            .and_then(|p| json(format(doc(&p.text_document.uri)))),
        HoverRequest::METHOD => request::<HoverParams>(req).and_then(|p| {
            let at = p.text_document_position_params;
            json(hover(doc(&at.text_document.uri), at.position))
        }),
        GotoDefinition::METHOD => request::<GotoDefinitionParams>(req).and_then(|p| {
            let at = p.text_document_position_params;
            let found = doc(&at.text_document.uri)
                .and_then(|d| definition(d, at.position))
                .map(|range| {
                    GotoDefinitionResponse::Scalar(Location::new(at.text_document.uri, range))
                });
            json(found)
        }),
        Completion::METHOD => request::<CompletionParams>(req).and_then(|p| {
            let at = p.text_document_position;
            let items = doc(&at.text_document.uri).map(|d| {
                let offset = d.offset(at.position);
                complete::complete(d, d.names_at(offset).as_deref(), offset)
            });
            json(items.map(CompletionResponse::Array))
        }),
        References::METHOD => request::<ReferenceParams>(req).and_then(|p| {
            let at = p.text_document_position;
            let found: Option<Vec<Location>> = doc(&at.text_document.uri).map(|d| {
                navigate::references(d, d.offset(at.position), p.context.include_declaration)
                    .into_iter()
                    .map(|s| Location::new(at.text_document.uri.clone(), d.range(s)))
                    .collect()
            });
            json(found)
        }),
        PrepareRenameRequest::METHOD => request::<TextDocumentPositionParams>(req).and_then(|at| {
            let d = doc(&at.text_document.uri).ok_or_else(not_open)?;
            let (span, name) = navigate::prepare(d, d.offset(at.position)).map_err(refused)?;
            json(PrepareRenameResponse::RangeWithPlaceholder {
                range: d.range(span),
                placeholder: name,
            })
        }),
        Rename::METHOD => request::<RenameParams>(req).and_then(|p| {
            let at = p.text_document_position;
            let d = doc(&at.text_document.uri).ok_or_else(not_open)?;
            let spans = navigate::rename(d, d.offset(at.position), &p.new_name).map_err(refused)?;
            let edits: Vec<TextEdit> = spans
                .into_iter()
                .map(|s| TextEdit::new(d.range(s), p.new_name.clone()))
                .collect();
            // A `WorkspaceEdit` by hand: its map is keyed by `Uri`, which clippy rightly
            // calls a mutable key type.
            Ok(serde_json::json!({ "changes": { at.text_document.uri.as_str(): edits } }))
        }),
        _ => Err((
            ErrorCode::MethodNotFound as i32,
            format!("warden lsp does not handle `{}`", req.method),
        )),
    };
    match result {
        Ok(value) => Response::new_ok(id, value),
        Err((code, message)) => Response::new_err(id, code, message),
    }
}

fn json<T: serde::Serialize>(v: T) -> std::result::Result<serde_json::Value, Failure> {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError as i32, e.to_string()))
}

fn refused(why: String) -> Failure {
    (ErrorCode::RequestFailed as i32, why)
}

fn not_open() -> Failure {
    refused("the document is not open in the server".to_owned())
}

fn request<P: serde::de::DeserializeOwned>(req: Request) -> std::result::Result<P, Failure> {
    serde_json::from_value(req.params).map_err(|e| {
        (
            ErrorCode::InvalidParams as i32,
            format!("bad parameters: {e}"),
        )
    })
}

/// `warden fmt` of the document as one edit; no edit when it is already canonical or
/// does not parse (the diagnostics say why).
fn format(doc: Option<&Document>) -> Option<Vec<TextEdit>> {
    let doc = doc?;
    let formatted = warden_lang::format_source(&doc.text, &Limits::default()).ok()?;
    if formatted == doc.text {
        return Some(Vec::new());
    }
    Some(vec![TextEdit::new(doc.full_range(), formatted)])
}

fn hover(doc: Option<&Document>, pos: lsp_types::Position) -> Option<Hover> {
    let doc = doc?;
    let (word, span) = doc.word_at(doc.offset(pos))?;
    let policy = warden_lang::parse(&doc.text, &Limits::default()).ok();
    let text = features::hover(policy.as_ref(), &doc.text, word)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(doc.range(span)),
    })
}

/// The declaration of the symbol under the cursor; else of the role, limit or resource
/// type that the word under the cursor spells (in a comment, say).
fn definition(doc: &Document, pos: lsp_types::Position) -> Option<lsp_types::Range> {
    let offset = doc.offset(pos);
    if let Some(span) = navigate::definition(doc, offset) {
        return Some(doc.range(span));
    }
    let (word, _) = doc.word_at(offset)?;
    let policy = warden_lang::parse(&doc.text, &Limits::default()).ok()?;
    features::definition(&policy, word).map(|s| doc.range(s))
}

//! `warden lsp`: a language server over standard input and output (LSP 3.17, on
//! `lsp-server`, the transport rust-analyzer uses).
//!
//! Documents are synchronized whole (`TextDocumentSyncKind::FULL`: policies are
//! small). On open and on every change the server publishes the diagnostics of
//! `warden lint` (check errors when the policy does not check, else the checker's
//! warnings and the lint findings, with the nearest `warden.toml`). It formats like
//! `warden fmt`, hovers over roles, actions, limits, resource types and keywords, and
//! jumps to the declaration of roles, limits and resource types.

mod document;
mod features;

use crate::lint::lint_text;
use document::Document;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{Formatting, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    DiagnosticSeverity, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DocumentFormattingParams, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, HoverProviderCapability, Location,
    MarkupContent, MarkupKind, NumberOrString, OneOf, PublishDiagnosticsParams, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri,
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
            docs.insert(p.text_document.uri.as_str().to_owned(), Document::new(text));
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

fn respond(docs: &HashMap<String, Document>, req: Request) -> Response {
    let id = req.id.clone();
    let result = match req.method.as_str() {
        Formatting::METHOD => request::<DocumentFormattingParams>(req)
            .map(|p| serde_json::to_value(format(docs.get(p.text_document.uri.as_str())))),
        HoverRequest::METHOD => request::<HoverParams>(req).map(|p| {
            let at = p.text_document_position_params;
            serde_json::to_value(hover(docs.get(at.text_document.uri.as_str()), at.position))
        }),
        GotoDefinition::METHOD => request::<GotoDefinitionParams>(req).map(|p| {
            let at = p.text_document_position_params;
            let found = docs
                .get(at.text_document.uri.as_str())
                .and_then(|d| definition(d, at.position))
                .map(|range| {
                    GotoDefinitionResponse::Scalar(Location::new(at.text_document.uri, range))
                });
            serde_json::to_value(found)
        }),
        _ => {
            return Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("warden lsp does not handle `{}`", req.method),
            )
        }
    };
    match result {
        Ok(Ok(value)) => Response::new_ok(id, value),
        Ok(Err(e)) => Response::new_err(id, ErrorCode::InternalError as i32, e.to_string()),
        Err((id, e)) => Response::new_err(id, ErrorCode::InvalidParams as i32, e),
    }
}

fn request<P: serde::de::DeserializeOwned>(
    req: Request,
) -> std::result::Result<P, (RequestId, String)> {
    serde_json::from_value(req.params).map_err(|e| (req.id, format!("bad parameters: {e}")))
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

fn definition(doc: &Document, pos: lsp_types::Position) -> Option<lsp_types::Range> {
    let (word, _) = doc.word_at(doc.offset(pos))?;
    let policy = warden_lang::parse(&doc.text, &Limits::default()).ok()?;
    features::definition(&policy, word).map(|s| doc.range(s))
}

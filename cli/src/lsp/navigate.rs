//! Go to definition, find references and rename, over the occurrences of
//! `symbols.rs`. They need the document as it is now: when it does not parse, they
//! find nothing (references, definition) or refuse (rename), saying why.

use super::document::Document;
use super::symbols::{self, Occurrence, Symbol};
use warden_lang::ast::{Policy, Span};
use warden_lang::Limits;

/// Why a rename is refused: the message the editor shows.
pub type Refusal = String;

fn parse(text: &str) -> Option<Policy> {
    warden_lang::parse(text, &Limits::default()).ok()
}

/// The symbol under the cursor and every occurrence of symbols in the document.
fn under(doc: &Document, offset: usize) -> Option<(Symbol, Vec<Occurrence>)> {
    let all = symbols::occurrences(&parse(&doc.text)?);
    let sym = symbols::at(&all, offset)?.symbol.clone();
    Some((sym, all))
}

/// The declaration of the symbol under the cursor.
pub fn definition(doc: &Document, offset: usize) -> Option<Span> {
    let (sym, all) = under(doc, offset)?;
    all.into_iter()
        .find(|o| o.declaration && o.symbol == sym)
        .map(|o| o.span)
}

/// Every place the symbol under the cursor is written, with or without its
/// declaration, in source order.
pub fn references(doc: &Document, offset: usize, include_declaration: bool) -> Vec<Span> {
    let Some((sym, all)) = under(doc, offset) else {
        return Vec::new();
    };
    all.into_iter()
        .filter(|o| o.symbol == sym && (include_declaration || !o.declaration))
        .map(|o| o.span)
        .collect()
}

/// The name a rename would replace, or why nothing here can be renamed.
pub fn prepare(doc: &Document, offset: usize) -> Result<(Span, String), Refusal> {
    let policy = parse(&doc.text).ok_or_else(not_parsing)?;
    let all = symbols::occurrences(&policy);
    let o = symbols::at(&all, offset).ok_or_else(|| {
        "only roles, limits, resource types and script functions can be renamed".to_owned()
    })?;
    Ok((o.span, o.symbol.name().to_owned()))
}

fn not_parsing() -> Refusal {
    "the policy does not parse: fix the syntax errors first".to_owned()
}

/// The edits renaming the symbol under the cursor to `new_name`, in source order.
///
/// Refused when `new_name` is not an identifier, names another symbol of the same
/// kind, or would change what the policy means: the renamed text must parse, every
/// renamed place must read as the same symbol under its new name, and the checker
/// must report no more errors than before (a reserved word, say).
pub fn rename(doc: &Document, offset: usize, new_name: &str) -> Result<Vec<Span>, Refusal> {
    let policy = parse(&doc.text).ok_or_else(not_parsing)?;
    let all = symbols::occurrences(&policy);
    let sym = symbols::at(&all, offset)
        .ok_or_else(|| {
            "only roles, limits, resource types and script functions can be renamed".to_owned()
        })?
        .symbol
        .clone();
    if !is_identifier(new_name) {
        return Err(format!(
            "`{new_name}` is not a valid name: a letter or `_`, then letters, digits or `_`"
        ));
    }
    let target = sym.renamed(new_name);
    if target == sym {
        return Ok(Vec::new());
    }
    if all.iter().any(|o| o.symbol == target) {
        return Err(format!(
            "cannot rename the {sym} to `{new_name}`: the policy already has a {target}"
        ));
    }
    let spans: Vec<Span> = all
        .iter()
        .filter(|o| o.symbol == sym)
        .map(|o| o.span)
        .collect();
    verify(&doc.text, &policy, &spans, &sym, &target)?;
    Ok(spans)
}

/// Apply the rename to a copy and check that it means the same policy.
fn verify(
    text: &str,
    before: &Policy,
    spans: &[Span],
    sym: &Symbol,
    target: &Symbol,
) -> Result<(), Refusal> {
    let mut renamed = text.to_owned();
    for s in spans.iter().rev() {
        renamed.replace_range(s.range(), target.name());
    }
    let refuse = |why: String| {
        Err(format!(
            "cannot rename the {sym} to `{}`: {why}",
            target.name()
        ))
    };
    let Some(after) = parse(&renamed) else {
        return refuse("the policy would no longer parse".to_owned());
    };
    let uses = symbols::occurrences(&after)
        .iter()
        .filter(|o| &o.symbol == target)
        .count();
    if uses != spans.len() {
        return refuse(format!(
            "`{}` would not read as a {} everywhere",
            target.name(),
            target.kind()
        ));
    }
    let errors = |p: &Policy| {
        warden_lang::check(p, &Limits::default())
            .into_iter()
            .filter(warden_lang::Diagnostic::is_error)
            .collect::<Vec<_>>()
    };
    let (old, new) = (errors(before), errors(&after));
    if new.len() > old.len() {
        let first = new
            .iter()
            .find(|d| !old.iter().any(|o| o.message == d.message))
            .unwrap_or(&new[0]);
        return refuse(first.message.clone());
    }
    Ok(())
}

/// The grammar's `ident`: a letter or `_`, then letters, digits and `_` (ASCII).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    const P: &str = "policy p\nrole viewer\nrole editor > viewer\ngrant editor: pages:read\n\
                     limit api: 10 per 1m by ip\nroute /x { require role viewer limit api }\n";

    fn doc() -> Document {
        Document::new(P.to_owned())
    }

    #[test]
    fn rename_edits_every_occurrence() {
        let d = doc();
        let at = P.find("viewer").unwrap() + 1;
        let spans = rename(&d, at, "reader").unwrap();
        assert_eq!(spans.len(), 3);
        assert!(spans.iter().all(|s| &P[s.range()] == "viewer"));
        assert_eq!(references(&d, at, false).len(), 2);
        assert_eq!(references(&d, at, true), spans);
    }

    #[test]
    fn rename_refusals() {
        let d = doc();
        let at = P.find("viewer").unwrap();
        let err = rename(&d, at, "9lives").unwrap_err();
        assert!(err.contains("not a valid name"), "{err}");
        let err = rename(&d, at, "editor").unwrap_err();
        assert!(err.contains("already has a role `editor`"), "{err}");
        // A reserved word: the checker refuses it as a role name.
        let err = rename(&d, at, "principal").unwrap_err();
        assert!(
            err.starts_with("cannot rename the role `viewer` to `principal`"),
            "{err}"
        );
        // A limit may take a role's name: they are different kinds.
        let api = P.find("api:").unwrap();
        assert_eq!(rename(&d, api, "editor").unwrap().len(), 2);
        let err = prepare(&d, 0).unwrap_err();
        assert!(err.contains("can be renamed"), "{err}");
        let broken = Document::new("policy p\nrole\n".to_owned());
        assert!(prepare(&broken, 10).unwrap_err().contains("does not parse"));
    }

    /// Every symbol of every example and seed policy renames cleanly (no refusal), and
    /// the renamed policy checks exactly as before but for the new name.
    #[test]
    fn every_symbol_of_the_examples_and_policies_renames() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut renamed = 0;
        for dir in ["examples", "policies"] {
            let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "warden"))
                .collect();
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                let d = Document::new(text.clone());
                let all = symbols::occurrences(&parse(&text).unwrap());
                let before = warden_lang::load(&text, &Limits::default()).map(|c| c.warnings.len());
                for o in all.iter().filter(|o| o.declaration) {
                    let new = format!("{}_renamed", o.symbol.name());
                    let spans = rename(&d, o.span.start as usize, &new)
                        .unwrap_or_else(|e| panic!("{}: {}: {e}", file.display(), o.symbol));
                    let uses = all.iter().filter(|x| x.symbol == o.symbol).count();
                    assert_eq!(spans.len(), uses, "{}: {}", file.display(), o.symbol);
                    let mut t = text.clone();
                    for s in spans.iter().rev() {
                        t.replace_range(s.range(), &new);
                    }
                    let after = warden_lang::load(&t, &Limits::default()).map(|c| c.warnings.len());
                    assert_eq!(
                        before.is_ok(),
                        after.is_ok(),
                        "{}: {}",
                        file.display(),
                        o.symbol
                    );
                    renamed += 1;
                }
            }
        }
        assert!(
            renamed > 50,
            "only {renamed} symbols: were the files found?"
        );
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("a_1") && is_identifier("_x"));
        assert!(!is_identifier("") && !is_identifier("a-b") && !is_identifier("é"));
    }
}

//! A test naming an undeclared action one edit away from a declared one tests a typo:
//! `pages:raed` is denied for everyone, so "expect deny" passes while testing nothing.
//! An error at the test's `action`, with "did you mean", before any test of the file
//! runs. An undeclared action far from every declared one is a deliberate test of deny
//! by default (`users:delete` where only `users:list` is granted) and stays allowed.

use super::load::{Req, Step, Suite};
use warden_lang::actions::Vocabulary;
use warden_lang::Diagnostic;

/// One error per test request whose action the policy does not declare but is one typo
/// from one it does.
pub fn undeclared(suite: &Suite, vocab: &Vocabulary) -> Vec<Diagnostic> {
    let sends = suite
        .tests
        .iter()
        .flat_map(|c| &c.steps)
        .filter_map(|s| match s {
            Step::Send(send) => match (&send.request, send.action_span) {
                (Req::Authz(r), Some(span)) => Some((r.action.as_str(), span)),
                _ => None,
            },
            _ => None,
        });
    sends
        .filter(|&(name, _)| !vocab.declares(name))
        .filter_map(|(name, span)| {
            let close = vocab.suggest(name)?;
            Some(
                Diagnostic::error(
                    "undeclared-action",
                    span,
                    format!(
                        "the policy declares no action `{name}`: no grant or allow rule permits it"
                    ),
                )
                .with_label("not a declared action")
                .with_help(format!("did you mean `{close}`?")),
            )
        })
        .collect()
}

//! Actions against the policy's vocabulary (`crate::actions`): a `deny` rule naming an
//! action that nothing permits never applies: an error when a declared action is one
//! typo away, else a warning (a deny written ahead of its grants). An
//! `allow` rule whose action no grant names but is one typo away from one that a grant
//! names probably means that one (a warning: rule-only actions are legitimate). A
//! policy that permits nothing at all is not checked.

use crate::actions::Vocabulary;
use crate::ast::{ActionKind, Effect, Item, Policy};
use crate::diag::Diagnostic;

pub(super) fn check(policy: &Policy, diags: &mut Vec<Diagnostic>) {
    let vocab = Vocabulary::of(policy);
    // A policy that permits nothing (no grant, no allow rule: deny rules alone, or an
    // HTTP-only policy) has no vocabulary to hold a name against.
    if vocab.is_empty() {
        return;
    }
    let granted = Vocabulary::of_grants(policy);
    for item in &policy.items {
        let Item::Rule(rule) = item else { continue };
        for pat in &rule.actions {
            match (rule.effect, &pat.kind) {
                (Effect::Deny, kind) if !vocab.meets(kind) => {
                    let name = kind.to_string();
                    let close = match kind {
                        ActionKind::Namespace(ns) => {
                            vocab.suggest_namespace(ns).map(|n| format!("{n}:*"))
                        }
                        _ => vocab.suggest(&name).map(str::to_owned),
                    };
                    diags.push(match close {
                        // One edit from a declared action: a typo, and a hole.
                        Some(close) => Diagnostic::error(
                            "undeclared-action",
                            pat.span,
                            format!(
                                "no grant or allow rule permits `{name}`, so this deny rule never applies to it"
                            ),
                        )
                        .with_label("not a declared action")
                        .with_help(format!("did you mean `{close}`?")),
                        // Far from every declared action: a deny written ahead of any
                        // grant (defensive), or dead.
                        None => Diagnostic::warning(
                            "undeclared-action",
                            pat.span,
                            format!("no grant or allow rule permits `{name}`: this deny rule applies to nothing yet"),
                        )
                        .with_label("not a declared action")
                        .with_help(vocab.help(&name)),
                    });
                }
                (Effect::Allow, ActionKind::Exact(a)) if !granted.declares(a) => {
                    if let Some(close) = granted.suggest(a) {
                        diags.push(
                            Diagnostic::warning(
                                "undeclared-action",
                                pat.span,
                                format!("no grant names `{a}`; only this rule permits it"),
                            )
                            .with_label("a typo?")
                            .with_help(format!(
                                "did you mean `{close}`? (an action only rules permit is fine; \
                                 then name it apart from `{close}`)"
                            )),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn a_deny_one_typo_from_a_permitted_action_is_an_error_a_far_one_a_warning() {
        let policy = "policy t\nrole reader\ngrant reader: pages:read, comments:*\n\
                      deny comments:delete\ndeny pages:raed\ndeny billing:export\n";
        let diags = crate::load(policy, &crate::Limits::default()).unwrap_err();
        let found: Vec<_> = diags
            .iter()
            .map(|d| {
                (
                    d.code,
                    d.is_error(),
                    &policy[d.span.start as usize..d.span.end as usize],
                )
            })
            .collect();
        // `comments:delete` is covered by `comments:*`.
        assert_eq!(
            found,
            [
                ("undeclared-action", true, "pages:raed"),
                ("undeclared-action", false, "billing:export")
            ]
        );
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `pages:read`?"));
    }

    #[test]
    fn a_policy_that_permits_nothing_is_not_checked() {
        let policy = "policy t\nrole r\ndeny docs:write\n";
        assert!(crate::load(policy, &crate::Limits::default()).is_ok());
    }
}

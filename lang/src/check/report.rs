//! `report_only`: where the word may stand. It marks what would refuse (a `deny`
//! rule, a requirement, a limit, the whole policy); an `allow` rule refuses nothing,
//! so marking one is an error, and inside a `report_only` policy the word is
//! redundant (a warning).

use crate::ast::*;
use crate::diag::Diagnostic;

/// Every misplaced or redundant `report_only` of `policy`.
pub(crate) fn check(policy: &Policy, diags: &mut Vec<Diagnostic>) {
    let whole = policy.report_only.is_some();
    let redundant = |span: Span| {
        Diagnostic::warning(
            "report-only-redundant",
            span,
            "`report_only` is redundant: the whole policy is `report_only`",
        )
        .with_label("already report-only")
        .with_help("remove it, or remove `report_only` from the `policy` line to enforce the rest")
    };
    for item in &policy.items {
        match item {
            Item::Rule(r) => {
                let Some(span) = r.report_only else { continue };
                if r.effect == Effect::Allow {
                    diags.push(
                        Diagnostic::error(
                            "report-only-allow",
                            span,
                            "`report_only` applies to deny rules, requirements and limits",
                        )
                        .with_label("on an allow rule")
                        .with_help(
                            "an allow rule refuses nothing, so there is nothing to report; to see \
                             what a new allow rule would permit, run the changed policy as a \
                             candidate beside the live one",
                        ),
                    );
                } else if whole {
                    diags.push(redundant(span));
                }
            }
            Item::Limit(l) if whole => {
                if let Some(span) = l.report_only {
                    diags.push(redundant(span));
                }
            }
            Item::Route(r) if whole => {
                for s in &r.body {
                    if let RouteStmt::Require(Requirement {
                        report_only: Some(span),
                        ..
                    }) = s
                    {
                        diags.push(redundant(*span));
                    }
                }
            }
            _ => {}
        }
    }
}

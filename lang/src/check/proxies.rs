//! The `proxies` block: trusted ranges that parse, a hop count of at least one, one of
//! the two forwarding headers, each single setting once, one block per policy.

use super::checker::Checker;
use super::types::Scope;
use crate::ast::{Item, Policy, ProxiesDecl, ProxiesValue, Span};
use crate::cidr::Cidr;
use crate::diag::Diagnostic;
use std::collections::HashMap;

/// The headers a `proxies` block may name, as written in the docs.
const HEADERS: [&str; 2] = ["X-Forwarded-For", "Forwarded"];

impl Checker<'_> {
    pub(crate) fn proxies(&mut self, p: &ProxiesDecl) {
        let mut singles: HashMap<&str, Span> = HashMap::new();
        let mut says_who = false;
        for e in &p.entries {
            if let Some(cond) = &e.cond {
                self.expect_bool(cond, &Scope::Load);
            }
            match &e.value {
                ProxiesValue::Trusted(list) => {
                    says_who = true;
                    for r in list {
                        if let Err(err) = Cidr::parse(&r.value) {
                            let help = match err.suggestion {
                                Some(net) => format!("write `\"{net}\"`: the network, host bits zero"),
                                None => "a trusted proxy is an address (`\"203.0.113.7\"`) or a network \
                                         (`\"10.0.0.0/8\"`, `\"fd00::/8\"`)"
                                    .to_owned(),
                            };
                            self.diags.push(
                                Diagnostic::error("invalid-proxy", r.span, err.message)
                                    .with_label("not a trusted range")
                                    .with_help(help),
                            );
                        }
                    }
                }
                ProxiesValue::Hops { value, span } => {
                    says_who = true;
                    if *value == 0 || *value > 64 {
                        self.diags.push(
                            Diagnostic::error(
                                "invalid-proxy",
                                *span,
                                format!("`hops: {value}` must be a number of proxies from 1 to 64"),
                            )
                            .with_help(
                                "count the proxies in front of the application, the nearest included; \
                                 without proxies, leave the block out",
                            ),
                        );
                    }
                }
                ProxiesValue::Header(h) => {
                    if !HEADERS.iter().any(|k| k.eq_ignore_ascii_case(&h.name)) {
                        self.diags.push(
                            Diagnostic::error(
                                "invalid-proxy",
                                h.span,
                                format!("`{}` is not a forwarding header the engine reads", h.name),
                            )
                            .with_help("write `header: X-Forwarded-For` (the default) or `header: Forwarded` (RFC 7239)"),
                        );
                    }
                }
            }
            let single = !matches!(e.value, ProxiesValue::Trusted(_));
            if single && e.cond.is_none() && singles.insert(e.value.key(), e.span).is_some() {
                self.diags.push(
                    Diagnostic::error(
                        "duplicate",
                        e.span,
                        format!("`{}` is set twice", e.value.key()),
                    )
                    .with_help("keep one, or make one conditional with `if env ...`"),
                );
            }
        }
        if !says_who {
            self.diags.push(
                Diagnostic::error(
                    "invalid-proxy",
                    p.span,
                    "a proxies block must say which proxies are trusted",
                )
                .with_help(
                    "list their addresses (`trusted: \"10.0.0.0/8\"`), or count them (`hops: 1`)",
                ),
            );
        }
    }
}

/// A second `proxies` block is an error: which one would decide?
pub(crate) fn one_block(policy: &Policy, diags: &mut Vec<Diagnostic>) {
    let mut blocks = policy.items.iter().filter_map(|i| match i {
        Item::Proxies(p) => Some(p.span),
        _ => None,
    });
    let Some(_) = blocks.next() else { return };
    for again in blocks {
        diags.push(
            Diagnostic::error("duplicate", again, "the policy has two proxies blocks")
                .with_label("second block")
                .with_help("merge them into one: their lines add up"),
        );
    }
}

//! `authorize`: a request against the decision tables (the first grant, then allow and
//! deny rules in source order), the decision and its explanation.

use crate::clock::Clock;
use crate::cx::{Cx, Read};
use crate::eval;
use crate::fast;
use crate::request::Request;
use crate::rolesets;
use crate::subject::{Subject, Who};
use crate::tables::{Tables, NO_GRANT};
use serde::ser::{SerializeStruct, Serializer};
use warden_lang::ast::Effect;

/// What decided a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum By {
    /// No grant or allow rule applies.
    Default,
    Grant(u32),
    Rule(u32),
}

/// A decision without its strings: what the cache stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Verdict {
    pub allowed: bool,
    pub by: By,
    /// On an allowed request: the first `report_only` deny rule that matched.
    pub reported: Option<u32>,
}

/// A `report_only` element (rule, requirement, limit, or the whole policy) that would
/// have refused a request the engine allowed: what enforcing it would have answered.
/// The answer itself is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Reported<'e> {
    /// The element as `file:line`: the deny rule, `require` line or `limit` line; for a
    /// refusal of a `report_only` policy that no line decides (a default deny, a path
    /// refused by the path rule, a CORS refusal), the `policy` line.
    pub rule: &'e str,
    /// The status enforcing it would have answered (403, 401, 429, 400, a redirect's
    /// 3xx, 503 for a failed store under fail-closed).
    pub status: u16,
    /// The reason it would have given (policy text or a failure code).
    pub reason: Option<&'e str>,
}

/// The answer to an authorization request. Borrows its texts from the engine, so that
/// building it allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'e> {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// 200 or 403.
    pub status: u16,
    /// For a denial: the deciding deny's `because`, or "no grant or allow rule applies".
    pub reason: Option<&'e str>,
    /// The deciding grant or rule as `file:line`; `None` for a default deny.
    pub rule: Option<&'e str>,
    /// A `report_only` deny rule (or, in a `report_only` policy, the denial) that this
    /// allowed request would have met if enforced; `None` when nothing is reported.
    pub reported: Option<Reported<'e>>,
}

/// The reason of a default deny.
pub const NO_PERMIT: &str = "no grant or allow rule applies";

impl Decision<'_> {
    /// The deciding rules as `file:line` (zero or one today; a list in the JSON contract).
    pub fn rules(&self) -> impl Iterator<Item = &str> {
        self.rule.into_iter()
    }

    /// The decision JSON of docs/JSON.md.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl serde::Serialize for Decision<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Decision", 5)?;
        st.serialize_field("allowed", &self.allowed)?;
        st.serialize_field("status", &self.status)?;
        st.serialize_field("reason", &self.reason)?;
        st.serialize_field("rules", &self.rule.into_iter().collect::<Vec<_>>())?;
        // Present only when something is reported: decisions of policies without
        // `report_only` keep the JSON they always had.
        match &self.reported {
            Some(r) => st.serialize_field("reported", std::slice::from_ref(r))?,
            None => st.skip_field("reported")?,
        }
        st.end()
    }
}

/// Explain mode: everything that was looked at, with the attribute values read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Trace {
    /// The action asked for.
    pub action: String,
    /// The resource's type (`None`: no resource).
    pub resource_type: Option<String>,
    /// The principal's declared roles (`None`: anonymous).
    pub roles: Option<Vec<String>>,
    /// The first grant covering the action for one of those roles, by inheritance.
    pub grant: Option<String>,
    /// Every rule applicable to (action, resource type), in source order.
    pub rules: Vec<RuleTrace>,
}

/// One rule of an explain [`Trace`]: how its condition evaluated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleTrace {
    /// The rule as `file:line`.
    pub rule: String,
    /// `allow` or `deny`.
    pub effect: &'static str,
    /// `none` (no condition), `true`, `false` or `missing`.
    pub condition: &'static str,
    /// allow: it permits; deny: it denies.
    pub matched: bool,
    /// The attributes the condition read, with their values (secrets redacted).
    pub reads: Vec<Read>,
    /// A `report_only` deny: when it matches an allowed request it is reported, never
    /// enforced. Left out of the JSON when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub report_only: bool,
}

/// The decision tables and the clock a decision reads: what `authorize` needs of an
/// engine. A copy of two references, made per call.
#[derive(Clone, Copy)]
pub(crate) struct Authz<'t> {
    pub t: &'t Tables,
    pub clock: &'t dyn Clock,
}

impl<'t> Authz<'t> {
    pub(crate) fn type_of(&self, s: Subject<'_>) -> u32 {
        self.t.type_id(s.resource_type())
    }

    pub(crate) fn first_grant(&self, class: u32, who: Option<Who<'_>>, pmask: Option<u64>) -> u32 {
        let t = self.t;
        if let Some(m) = pmask {
            let mut best = NO_GRANT;
            let mut m = m;
            while m != 0 {
                best = best.min(t.grant(m.trailing_zeros(), class));
                m &= m - 1;
            }
            return best;
        }
        who.map_or(NO_GRANT, |p| {
            rolesets::role_ids(t, p.roles())
                .map(|r| t.grant(r, class))
                .min()
                .unwrap_or(NO_GRANT)
        })
    }

    pub(crate) fn verdict(&self, class: u32, ty: u32, s: Subject<'_>) -> Verdict {
        let t = self.t;
        let who = s.principal();
        let pmask = who.and_then(|p| rolesets::role_mask(t, p.roles()));
        let cx = Cx {
            t: Some(t),
            req: Some(s),
            http: None,
            rec: None,
            pmask,
            clock: Some(self.clock),
        };
        let Some(entry) = t.entry(class, ty) else {
            return Verdict {
                allowed: false,
                by: By::Default,
                reported: None,
            };
        };
        let grant = self.first_grant(class, who, pmask);
        let permit = if grant != NO_GRANT {
            Some(By::Grant(grant))
        } else {
            entry
                .allows
                .iter()
                .find(|&&i| {
                    t.rules
                        .get(i as usize)
                        .is_some_and(|r| fast::rule_matches(&cx, r))
                })
                .map(|&i| By::Rule(i))
        };
        let Some(permit) = permit else {
            return Verdict {
                allowed: false,
                by: By::Default,
                reported: None,
            };
        };
        let matches = |&&i: &&u32| {
            t.rules
                .get(i as usize)
                .is_some_and(|r| fast::rule_matches(&cx, r))
        };
        match entry.denies.iter().find(matches) {
            Some(&i) => Verdict {
                allowed: false,
                by: By::Rule(i),
                reported: None,
            },
            // `report_only` denies are read only for a request that is allowed: one
            // refused anyway has nothing to report. Without any, an empty slice.
            None => Verdict {
                allowed: true,
                by: permit,
                reported: entry.reports.iter().find(matches).copied(),
            },
        }
    }

    pub(crate) fn decision(&self, v: Verdict) -> Decision<'t> {
        let t = self.t;
        if let (false, Some(policy)) = (v.allowed, &t.report_only) {
            // A `report_only` policy: the denial is reported, the request allowed.
            let denied = self.enforced(v);
            return Decision {
                allowed: true,
                status: 200,
                reason: None,
                rule: None,
                reported: Some(Reported {
                    rule: denied.rule.unwrap_or(policy),
                    status: denied.status,
                    reason: denied.reason,
                }),
            };
        }
        self.enforced(v)
    }

    /// The decision as written, `report_only` policy or not.
    fn enforced(&self, v: Verdict) -> Decision<'t> {
        let t = self.t;
        let (rule, reason) = match v.by {
            By::Default => (None, Some(NO_PERMIT)),
            By::Grant(g) => (t.grant_locs.get(g as usize).map(|s| &**s), None),
            By::Rule(i) => {
                let r = t.rules.get(i as usize);
                (
                    r.map(|r| &*r.loc),
                    if v.allowed {
                        None
                    } else {
                        r.map(|r| &*r.reason)
                    },
                )
            }
        };
        let reported = v.reported.and_then(|i| {
            let r = t.rules.get(i as usize)?;
            Some(Reported {
                rule: &r.loc,
                status: 403,
                reason: Some(&r.reason),
            })
        });
        Decision {
            allowed: v.allowed,
            status: if v.allowed { 200 } else { 403 },
            reason,
            rule,
            reported,
        }
    }

    /// Decide and explain: the same decision as `Engine::authorize`, with the full trace.
    pub(crate) fn explain(&self, req: &Request) -> (Decision<'t>, Trace) {
        let t = self.t;
        let class = t.action_class(&req.action);
        let s = Subject::Built(req);
        let ty = self.type_of(s);
        let decision = self.decision(self.verdict(class, ty, s));
        let who = s.principal();
        let pmask = who.and_then(|p| rolesets::role_mask(t, p.roles()));
        let grant = self.first_grant(class, who, pmask);
        let mut rules = Vec::new();
        if let Some(entry) = t.entry(class, ty) {
            let mut ids: Vec<u32> = entry
                .allows
                .iter()
                .chain(entry.denies.iter())
                .chain(entry.reports.iter())
                .copied()
                .collect();
            ids.sort_unstable();
            for i in ids {
                let Some(rule) = t.rules.get(i as usize) else {
                    continue;
                };
                let rec = std::cell::RefCell::new(Vec::new());
                let cx = Cx {
                    t: Some(t),
                    req: Some(s),
                    http: None,
                    rec: Some(&rec),
                    pmask,
                    clock: Some(self.clock),
                };
                let (matched, cond) = eval::rule_matches(&cx, rule);
                rules.push(RuleTrace {
                    rule: rule.loc.to_string(),
                    effect: match rule.effect {
                        Effect::Allow => "allow",
                        Effect::Deny => "deny",
                    },
                    condition: match cond {
                        None => "none",
                        Some(Some(true)) => "true",
                        Some(Some(false)) => "false",
                        Some(None) => "missing",
                    },
                    matched,
                    reads: rec.into_inner(),
                    report_only: rule.report_only,
                });
            }
        }
        let trace = Trace {
            action: req.action.clone(),
            resource_type: req.resource.as_ref().map(|r| r.ty.clone()),
            roles: req.principal.as_ref().map(|p| {
                p.roles
                    .iter()
                    .filter(|n| t.role_id(n).is_some())
                    .cloned()
                    .collect()
            }),
            grant: t.grant_locs.get(grant as usize).map(|s| s.to_string()),
            rules,
        };
        (decision, trace)
    }
}

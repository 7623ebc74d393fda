//! Data filtering: "which resources of this type may this principal act on?" as a
//! condition over resource attributes, and that condition as a database query.
//!
//! [`Engine::residual`] takes a principal, an action, a resource type and a context and
//! folds away everything but the resource: grants and roles, principal and context
//! attributes, `env`, `now`. What is left is a [`Residual`]: [`Residual::Always`],
//! [`Residual::Never`], or a [`Cond`] over `resource.*` that holds for exactly the
//! resources `authorize` would allow. It is computed from the same compiled tables and
//! condition programs that `authorize` evaluates, and whatever does not depend on the
//! resource is evaluated by the same evaluator, so that the two cannot drift.
//!
//! | module | owns |
//! | --- | --- |
//! | `mod.rs` | [`Residual`], [`Cond`], [`CannotFilter`], [`Engine::residual`]: rules combined |
//! | `partial.rs` | one condition program -> when it is true, when it is false |
//! | `sql.rs` | [`Residual::to_sql`]: parameterized `WHERE` fragments, [`ColumnMap`] |
//! | `json.rs` | [`residual_json`]: the JSON request the bindings and the CLI share |
//!
//! Missing attributes: a condition over a resource attribute is neither true nor false
//! when the attribute is missing (absent or null) or of another kind than it is compared
//! with, exactly as in `authorize`. Each atom of a [`Cond`] is therefore *false* for a
//! missing attribute, and [`Cond::Not`] is plain negation; an allow rule's condition
//! becomes "true", a deny's (with the default `missing deny`) "not false".

mod json;
mod partial;
mod sql;

pub use json::{residual_json, FilterError};
pub use sql::{ColumnMap, ColumnSpec, ColumnType, Dialect, SqlFilter, SqlParam};

use crate::compile::NO_GRANT;
use crate::eval::{self, Cx};
use crate::request::{Attrs, Principal, Request, Resource};
use crate::subject::Subject;
use crate::Engine;
use partial::{Pe, B};
use serde::Serialize;
use std::fmt;
use warden_lang::ast::{CondKind, Effect, OnMissing};

/// The resources an action is allowed on, for one principal and context.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Residual {
    /// Every resource of the type: no condition reads the resource (or none is needed).
    Always,
    /// No resource of the type.
    Never,
    /// Exactly the resources for which `condition` holds.
    Conditional { condition: Cond },
}

/// A condition over resource attributes. Every atom is false when its attribute is
/// missing (absent or null) or of another kind than the value it is compared with;
/// `Not` is two-valued negation (true for such attributes).
///
/// Attribute names are paths relative to `resource`: `"owner"`, `"owner.id"`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cond {
    /// All hold (at least two).
    And(Vec<Cond>),
    /// Some holds (at least two).
    Or(Vec<Cond>),
    Not(Box<Cond>),
    /// The attribute is present; with a kind, present and of that kind.
    Present {
        attr: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<Kind>,
    },
    /// The attribute is of the value's kind and compares so (`lt`.. only for numbers).
    Cmp {
        attr: String,
        op: CmpOp,
        value: Scalar,
    },
    /// The attribute equals one of the values (all of one kind, at least one).
    In {
        attr: String,
        values: Vec<Scalar>,
    },
    /// A string attribute containing the text.
    Contains {
        attr: String,
        value: String,
    },
    /// A string attribute starting with the text (never empty: that is `Present`).
    StartsWith {
        attr: String,
        value: String,
    },
    /// A string attribute ending with the text (never empty).
    EndsWith {
        attr: String,
        value: String,
    },
    /// A list attribute with an element equal to the value.
    Has {
        attr: String,
        value: Scalar,
    },
}

/// The kind of an attribute value, as conditions distinguish them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    String,
    Number,
    Bool,
    List,
}

/// A comparison operator of [`Cond::Cmp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A constant of a condition: what the principal and context folded into.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    String(String),
    Number(f64),
    Bool(bool),
}

impl Scalar {
    /// The kind an attribute must have to equal this value.
    pub fn kind(&self) -> Kind {
        match self {
            Scalar::String(_) => Kind::String,
            Scalar::Number(_) => Kind::Number,
            Scalar::Bool(_) => Kind::Bool,
        }
    }
}

/// Why a residual cannot be computed: a rule whose condition no filter can express
/// (a script function, a regular expression, arithmetic on a resource attribute ...).
/// Never a wrong filter: the host must fall back to `authorize` per resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannotFilter {
    /// The rule as `file:line`; empty when the request itself is at fault.
    pub rule: String,
    pub reason: String,
}

impl fmt::Display for CannotFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rule.is_empty() {
            write!(f, "cannot filter: {}", self.reason)
        } else {
            write!(
                f,
                "cannot filter: the rule at {} {}",
                self.rule, self.reason
            )
        }
    }
}

impl std::error::Error for CannotFilter {}

impl Residual {
    /// The residual as JSON: `{"kind": "always"}`, `{"kind": "never"}` or
    /// `{"kind": "conditional", "condition": ...}` with the [`Cond`] tree.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Whether a resource satisfies the residual, evaluated in memory: what the SQL
    /// targets compute in the database. `resource.id` is the resource's id.
    pub fn matches(&self, resource: &Resource) -> bool {
        match self {
            Residual::Always => true,
            Residual::Never => false,
            Residual::Conditional { condition } => condition.matches(resource),
        }
    }
}

impl Cond {
    /// Evaluate against a resource's attributes (see [`Residual::matches`]).
    pub fn matches(&self, r: &Resource) -> bool {
        use crate::request::Value;
        let get = |attr: &str| -> Option<Value> {
            if attr == "id" {
                return Some(Value::String(r.id.clone()));
            }
            let mut parts = attr.split('.');
            let mut v = r.attrs.get(parts.next()?)?;
            for p in parts {
                match v {
                    Value::Map(m) => v = m.get(p)?,
                    _ => return None,
                }
            }
            (!matches!(v, Value::Null)).then(|| v.clone())
        };
        let scalar_eq = |v: &Value, s: &Scalar| match (v, s) {
            (Value::String(a), Scalar::String(b)) => a == b,
            (Value::Number(a), Scalar::Number(b)) => a == b,
            (Value::Bool(a), Scalar::Bool(b)) => a == b,
            _ => false,
        };
        match self {
            Cond::And(cs) => cs.iter().all(|c| c.matches(r)),
            Cond::Or(cs) => cs.iter().any(|c| c.matches(r)),
            Cond::Not(c) => !c.matches(r),
            Cond::Present { attr, kind } => match (get(attr), kind) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(v), Some(k)) => kind_of(&v) == Some(*k),
            },
            Cond::Cmp { attr, op, value } => match (get(attr), value) {
                (Some(Value::Number(a)), Scalar::Number(b)) => match op {
                    CmpOp::Eq => a == *b,
                    CmpOp::Lt => a < *b,
                    CmpOp::Le => a <= *b,
                    CmpOp::Gt => a > *b,
                    CmpOp::Ge => a >= *b,
                },
                (Some(v), s) => *op == CmpOp::Eq && scalar_eq(&v, s),
                (None, _) => false,
            },
            Cond::In { attr, values } => {
                get(attr).is_some_and(|v| values.iter().any(|s| scalar_eq(&v, s)))
            }
            Cond::Contains { attr, value } => {
                matches!(get(attr), Some(Value::String(s)) if s.contains(value.as_str()))
            }
            Cond::StartsWith { attr, value } => {
                matches!(get(attr), Some(Value::String(s)) if s.starts_with(value.as_str()))
            }
            Cond::EndsWith { attr, value } => {
                matches!(get(attr), Some(Value::String(s)) if s.ends_with(value.as_str()))
            }
            Cond::Has { attr, value } => match get(attr) {
                Some(Value::List(items)) => items.iter().any(|v| scalar_eq(v, value)),
                _ => false,
            },
        }
    }
}

fn kind_of(v: &crate::request::Value) -> Option<Kind> {
    use crate::request::Value;
    match v {
        Value::String(_) => Some(Kind::String),
        Value::Number(_) => Some(Kind::Number),
        Value::Bool(_) => Some(Kind::Bool),
        Value::List(_) => Some(Kind::List),
        Value::Null | Value::Map(_) => None,
    }
}

impl Engine {
    /// The residual of `action` on resources of type `resource_type` for `principal`
    /// (`None`: anonymous) in `context`: the condition on `resource.*` under which
    /// [`Engine::authorize`] allows. See the [module docs](crate::filter).
    ///
    /// ```
    /// use warden::{Engine, Options, Principal, Attrs};
    /// use warden::filter::{Residual, Dialect, ColumnMap, ColumnType};
    ///
    /// let engine = Engine::from_source("docs.warden", r#"
    /// policy docs
    /// role member
    /// grant member: posts:read
    /// resource post { author: string, public: bool }
    /// deny posts:read on post unless resource.author == principal.id or resource.public == true
    /// "#, Options::default()).map_err(|e| e.to_string())?;
    /// let me = Principal::new("u1").role("member");
    /// let r = engine.residual("posts:read", "post", Some(&me), &Attrs::new())
    ///     .map_err(|e| e.to_string())?;
    /// let map = ColumnMap::new("posts")
    ///     .column("author", "author_id", ColumnType::String)
    ///     .column("public", "public", ColumnType::Boolean);
    /// let sql = r.to_sql(&map, Dialect::Postgres, 1).map_err(|e| e.to_string())?;
    /// assert_eq!(sql.params.len(), 3); // u1, u1 again (for "not the author"), true
    /// assert!(sql.sql.contains("\"posts\".\"author_id\" = $1"));
    /// # Ok::<(), String>(())
    /// ```
    pub fn residual(
        &self,
        action: &str,
        resource_type: &str,
        principal: Option<&Principal>,
        context: &Attrs,
    ) -> Result<Residual, CannotFilter> {
        let t = &self.tables;
        let class = t.action_class(action);
        let ty = t.type_id(Some(resource_type));
        let Some(entry) = t.entry(class, ty) else {
            return Ok(Residual::Never);
        };
        // Everything but the resource's attributes: principal, context, the type.
        let base = Request {
            action: action.to_owned(),
            principal: principal.cloned(),
            resource: Some(Resource::new(resource_type, "")),
            context: context.clone(),
        };
        let s = Subject::Built(&base);
        let who = s.principal();
        let pmask = who.and_then(|p| eval::role_mask(t, p.roles()));
        let cx = Cx {
            t: Some(t),
            req: Some(s),
            http: None,
            rec: None,
            pmask,
            clock: Some(&*self.clock),
        };
        let pe = Pe { t, cx, base: &base };
        let rule_cond = |i: u32| -> Result<B, CannotFilter> {
            let Some(rule) = t.rules.get(i as usize) else {
                return Ok(B::Const(false));
            };
            let Some((kind, node)) = &rule.cond else {
                return Ok(B::Const(true));
            };
            let (tr, fa) = pe.boolean(node).map_err(|reason| CannotFilter {
                rule: rule.loc.to_string(),
                reason,
            })?;
            // When the rule applies (allow: permits; deny: denies), as `rule_matches`.
            Ok(match (rule.effect, kind, rule.missing) {
                (Effect::Allow, CondKind::If, _) => tr,
                (Effect::Allow, CondKind::Unless, _) => fa,
                (Effect::Deny, CondKind::If, OnMissing::Skip) => tr,
                (Effect::Deny, CondKind::Unless, OnMissing::Skip) => fa,
                (Effect::Deny, CondKind::If, OnMissing::Deny) => fa.not(),
                (Effect::Deny, CondKind::Unless, OnMissing::Deny) => tr.not(),
            })
        };
        // Any of `ids` applies; an error matters only if the others do not settle it.
        let any = |ids: &[u32]| -> Result<B, CannotFilter> {
            let mut acc = B::Const(false);
            let mut err = None;
            for &i in ids {
                match rule_cond(i) {
                    Ok(c) => acc = acc.or(c),
                    Err(e) => err = err.or(Some(e)),
                }
                if acc == B::Const(true) {
                    return Ok(acc);
                }
            }
            err.map_or(Ok(acc), Err)
        };
        let grant = self.first_grant(class, who, pmask);
        let permit = if grant != NO_GRANT {
            B::Const(true)
        } else {
            any(&entry.allows)?
        };
        if permit == B::Const(false) {
            return Ok(Residual::Never);
        }
        let denied = any(&entry.denies)?;
        Ok(match permit.and(denied.not()) {
            B::Const(true) => Residual::Always,
            B::Const(false) => Residual::Never,
            B::C(condition) => Residual::Conditional { condition },
        })
    }
}

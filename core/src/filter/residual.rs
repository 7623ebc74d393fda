//! The residual and its conditions: what [`Engine::residual`](crate::Engine::residual)
//! answers, and how a condition is tested on a resource in memory.

use crate::request::Resource;
use serde::Serialize;
use std::fmt;

/// The resources an action is allowed on, for one principal and context.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Residual {
    /// Every resource of the type: no condition reads the resource (or none is needed).
    Always,
    /// No resource of the type.
    Never,
    /// Exactly the resources for which `condition` holds.
    Conditional {
        /// The condition on the resource's attributes.
        condition: Cond,
    },
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
    /// Does not hold (two-valued: true for a missing attribute).
    Not(Box<Cond>),
    /// The attribute is present; with a kind, present and of that kind.
    Present {
        /// The attribute path, relative to `resource`.
        attr: String,
        /// The kind the value must have, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<Kind>,
    },
    /// The attribute is of the value's kind and compares so (`lt`.. only for numbers).
    Cmp {
        /// The attribute path, relative to `resource`.
        attr: String,
        /// The comparison.
        op: CmpOp,
        /// The value compared with.
        value: Scalar,
    },
    /// The attribute equals one of the values (all of one kind, at least one).
    In {
        /// The attribute path, relative to `resource`.
        attr: String,
        /// The values, all of one kind.
        values: Vec<Scalar>,
    },
    /// A string attribute containing the text.
    Contains {
        /// The attribute path, relative to `resource`.
        attr: String,
        /// The text.
        value: String,
    },
    /// A string attribute starting with the text (never empty: that is `Present`).
    StartsWith {
        /// The attribute path, relative to `resource`.
        attr: String,
        /// The text.
        value: String,
    },
    /// A string attribute ending with the text (never empty).
    EndsWith {
        /// The attribute path, relative to `resource`.
        attr: String,
        /// The text.
        value: String,
    },
    /// A list attribute with an element equal to the value.
    Has {
        /// The attribute path, relative to `resource`.
        attr: String,
        /// The element looked for.
        value: Scalar,
    },
}

/// The kind of an attribute value, as conditions distinguish them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// A list.
    List,
}

/// A comparison operator of [`Cond::Cmp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A constant of a condition: what the principal and context folded into.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A string.
    String(String),
    /// A number (f64, as in JSON).
    Number(f64),
    /// A boolean.
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
    /// What the filter cannot express, for a person to act on.
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

//! The packed form of an authorization request that `index.js` sends to `decide`: one
//! string, so that a decision costs one N-API string read instead of dozens of calls.
//!
//! Fields are separated by NUL. Each starts with a tag: `s` a string (the rest, which
//! holds no NUL), `n` a number (JS `String(n)`), `t`/`f` a boolean, `u` missing
//! (`undefined`/`null`), `j` JSON (objects, arrays, strings holding NUL), `x` an
//! unsupported JS type (the rest names it), `a` a list of role names (the rest is the
//! count; that many fields follow). Order: action, principal id, roles, principal slots
//! (when `HAS_PRINCIPAL`), resource type, resource id, resource slots (when
//! `HAS_RESOURCE`), context slots (when `HAS_CONTEXT`).

use warden::{Attrs, RequestError, Value};
use warden_host::{set_str, set_value_str, Budget, Path, Scratch};

pub(crate) const HAS_PRINCIPAL: u32 = 1;
pub(crate) const HAS_RESOURCE: u32 = 2;
/// The principal gave `role` (one name) rather than `roles`.
pub(crate) const ONE_ROLE: u32 = 4;
/// The principal gave both `roles` and `role`.
pub(crate) const BOTH_ROLES: u32 = 8;
pub(crate) const HAS_CONTEXT: u32 = 16;

fn err(msg: impl Into<String>) -> RequestError {
    RequestError::new(msg)
}

/// One decoded field, borrowing the packed text.
enum Field<'a> {
    Str(&'a str),
    Num(&'a str),
    Bool(bool),
    Missing,
    Json(&'a str),
    Other(&'a str),
    Roles(&'a str),
}

struct Fields<'a>(std::str::Split<'a, char>);

impl<'a> Fields<'a> {
    fn next(&mut self) -> Result<Field<'a>, RequestError> {
        let f = self
            .0
            .next()
            .ok_or_else(|| err("the request is incomplete (index.js and warden.node differ?)"))?;
        let rest = f.get(1..).unwrap_or("");
        Ok(match f.as_bytes().first() {
            Some(b's') => Field::Str(rest),
            Some(b'n') => Field::Num(rest),
            Some(b't') => Field::Bool(true),
            Some(b'f') => Field::Bool(false),
            Some(b'u') => Field::Missing,
            Some(b'j') => Field::Json(rest),
            Some(b'a') => Field::Roles(rest),
            Some(b'x') => Field::Other(rest),
            _ => {
                return Err(err(
                    "the request is malformed (index.js and warden.node differ?)",
                ))
            }
        })
    }
}

fn number(text: &str, what: Path<'_>) -> Result<f64, RequestError> {
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(err(format!("`{what}` must be a finite number"))),
    }
}

fn parse_json(text: &str, what: Path<'_>) -> Result<serde_json::Value, RequestError> {
    serde_json::from_str(text).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            err(format!(
                "`{what}` nests lists and maps deeper than {} levels",
                warden_host::budget::MAX_DEPTH
            ))
        } else {
            err(format!("`{what}` could not be read: {e}"))
        }
    })
}

/// A JSON value as a request value, within the budget.
fn from_json(
    j: &serde_json::Value,
    what: Path<'_>,
    budget: &mut Budget,
) -> Result<Value, RequestError> {
    use serde_json::Value as J;
    budget.node(&what)?;
    Ok(match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) => {
            budget.string(&what, s.len())?;
            Value::String(s.clone())
        }
        J::Array(a) => {
            budget.enter(&what)?;
            let items = a
                .iter()
                .map(|x| from_json(x, what, budget))
                .collect::<Result<Vec<_>, _>>()?;
            budget.leave();
            Value::List(items)
        }
        J::Object(o) => {
            budget.enter(&what)?;
            let mut attrs = Vec::with_capacity(o.len());
            for (k, x) in o {
                budget.string(&what, k.len())?;
                attrs.push((k.clone(), from_json(x, what, budget)?));
            }
            budget.leave();
            Value::Map(Attrs(attrs))
        }
    })
}

fn unsupported(what: Path<'_>, ty: &str) -> RequestError {
    err(format!(
        "`{what}` has unsupported type `{ty}`; use string, number, boolean, null, array or object"
    ))
}

/// A string field (action, type, role name): `s`, or `j` for a string holding NUL.
fn text<'a>(
    f: &Field<'a>,
    what: Path<'_>,
) -> Result<Option<std::borrow::Cow<'a, str>>, RequestError> {
    Ok(match f {
        Field::Str(s) => Some(std::borrow::Cow::Borrowed(*s)),
        Field::Json(j) => match parse_json(j, what)? {
            serde_json::Value::String(s) => Some(std::borrow::Cow::Owned(s)),
            _ => None,
        },
        _ => None,
    })
}

pub(crate) fn fill(packed: &str, flags: u32, s: &mut Scratch) -> Result<(), RequestError> {
    let mut budget = Budget::new();
    let mut f = Fields(packed.split('\0'));
    let what = Path {
        root: "action",
        name: "",
    };
    match f.next()? {
        Field::Missing => return Err(err("missing `action`")),
        a => match text(&a, what)? {
            Some(a) => {
                budget.string(&what, a.len())?;
                s.set_action(&a);
            }
            None => return Err(err("`action` must be a string")),
        },
    }
    if flags & HAS_PRINCIPAL == 0 {
        s.anonymous();
    } else {
        let p = s.principal();
        id(
            f.next()?,
            &mut p.id,
            Path {
                root: "principal",
                name: "id",
            },
            &budget,
        )?;
        if flags & BOTH_ROLES != 0 {
            return Err(err(
                "give either `roles` or `role` for the principal, not both",
            ));
        }
        roles(&mut f, flags & ONE_ROLE != 0, &mut p.roles, &mut budget)?;
        slots(&mut f, &mut p.attrs, "principal", &mut budget)?;
    }
    if flags & HAS_RESOURCE == 0 {
        s.no_resource();
    } else {
        let r = s.resource();
        let what = Path {
            root: "resource",
            name: "type",
        };
        match f.next()? {
            Field::Missing => return Err(err("missing `resource.type`")),
            t => match text(&t, what)? {
                Some(t) => {
                    budget.string(&what, t.len())?;
                    set_str(&mut r.ty, &t);
                }
                None => return Err(err("`resource.type` must be a string")),
            },
        }
        id(
            f.next()?,
            &mut r.id,
            Path {
                root: "resource",
                name: "id",
            },
            &budget,
        )?;
        slots(&mut f, &mut r.attrs, "resource", &mut budget)?;
    }
    let ctx = s.context();
    if flags & HAS_CONTEXT == 0 {
        ctx.0.iter_mut().for_each(|slot| slot.1 = Value::Null);
        Ok(())
    } else {
        slots(&mut f, ctx, "context", &mut budget)
    }
}

/// `id`: a string, a number (as its decimal text, like serde_json) or missing (empty).
fn id(f: Field<'_>, out: &mut String, what: Path<'_>, budget: &Budget) -> Result<(), RequestError> {
    match f {
        Field::Missing => out.clear(),
        Field::Num(n) => {
            let n = number(n, what)?;
            let text = if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                format!("{}", n as i64)
            } else {
                format!("{n}")
            };
            set_str(out, &text);
        }
        other => match text(&other, what)? {
            Some(t) => {
                budget.string(&what, t.len())?;
                set_str(out, &t);
            }
            None => return Err(err(format!("`{what}` must be a string"))),
        },
    }
    Ok(())
}

fn roles(
    f: &mut Fields<'_>,
    one: bool,
    out: &mut Vec<String>,
    budget: &mut Budget,
) -> Result<(), RequestError> {
    let what = Path {
        root: "principal",
        name: "roles",
    };
    let mut n = 0usize;
    let mut put = |name: &str, budget: &mut Budget| -> Result<(), RequestError> {
        budget.node(&what)?;
        budget.string(&what, name.len())?;
        match out.get_mut(n) {
            Some(slot) => set_str(slot, name),
            None => out.push(name.to_owned()),
        }
        n += 1;
        Ok(())
    };
    match f.next()? {
        Field::Missing => {}
        Field::Roles(count) => {
            let count: usize = count.parse().map_err(|_| err("the request is malformed"))?;
            for _ in 0..count {
                match text(&f.next()?, what)? {
                    Some(r) => put(&r, budget)?,
                    None => return Err(err("role names must be strings")),
                }
            }
        }
        Field::Json(j) if !one => match parse_json(j, what)? {
            serde_json::Value::Array(items) => {
                for r in items {
                    match r {
                        serde_json::Value::String(r) => put(&r, budget)?,
                        _ => return Err(err("role names must be strings")),
                    }
                }
            }
            serde_json::Value::String(_) => return Err(err("`principal.roles` must be a list")),
            _ => return Err(err("`principal.roles` must be a list")),
        },
        other if one => match text(&other, what)? {
            Some(r) => put(&r, budget)?,
            None => return Err(err("role names must be strings")),
        },
        _ => return Err(err("`principal.roles` must be a list")),
    }
    out.truncate(n);
    Ok(())
}

fn slots(
    f: &mut Fields<'_>,
    attrs: &mut Attrs,
    root: &'static str,
    budget: &mut Budget,
) -> Result<(), RequestError> {
    for slot in attrs.0.iter_mut() {
        let what = Path {
            root,
            name: &slot.0,
        };
        budget.node(&what)?;
        match f.next()? {
            Field::Str(s) => {
                budget.string(&what, s.len())?;
                set_value_str(&mut slot.1, s);
            }
            Field::Num(n) => slot.1 = Value::Number(number(n, what)?),
            Field::Bool(b) => slot.1 = Value::Bool(b),
            Field::Missing => slot.1 = Value::Null,
            Field::Json(j) => slot.1 = from_json(&parse_json(j, what)?, what, budget)?,
            Field::Other(ty) => return Err(unsupported(what, ty)),
            Field::Roles(_) => return Err(err("the request is malformed")),
        }
    }
    Ok(())
}

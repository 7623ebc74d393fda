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
//! | `residual.rs` | [`Residual`], [`Cond`], [`CannotFilter`]: the answer and its conditions |
//! | `mod.rs` | [`Engine::residual`]: grants and rules combined into a residual |
//! | `partial/mod.rs` | one condition program -> when it is true, when it is false |
//! | `partial/enumerate.rs` | subtrees whose only resource read is a role or organization lookup, per value |
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
mod residual;
mod sql;

pub use json::{residual_json, FilterError};
pub use residual::{CannotFilter, CmpOp, Cond, Kind, Residual, Scalar};
pub use sql::{ColumnMap, ColumnSpec, ColumnType, Dialect, SqlFilter, SqlParam};

use crate::cx::Cx;
use crate::request::{Attrs, Principal, Request, Resource};
use crate::rolesets;
use crate::subject::Subject;
use crate::tables::NO_GRANT;
use crate::Engine;
use partial::{Pe, B};
use warden_lang::ast::{CondKind, Effect, OnMissing};

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
        // A `report_only` policy allows every request; `report_only` denies are in
        // `Entry::reports`, which the filter never reads.
        if t.report_only.is_some() {
            return Ok(Residual::Always);
        }
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
        let pmask = who.and_then(|p| rolesets::role_mask(t, p.roles()));
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
        let grant = self.authz().first_grant(class, who, pmask);
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

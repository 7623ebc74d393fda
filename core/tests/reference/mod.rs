//! The reference interpreter: a slow, obviously-correct walk over the syntax tree that
//! states LANGUAGE.md's authorization semantics directly. Used only by tests.
//!
//! It shares nothing with the engine but the request types and `ActionKind::matches`.

use warden::{Attrs, Request, Value};
use warden_lang::ast::*;
use warden_lang::diag::LineIndex;

/// A value, or missing.
#[derive(Debug, Clone, PartialEq)]
pub enum RV {
    Missing,
    Bool(bool),
    Num(f64),
    Str(String),
    /// A declared role, by name.
    Role(String),
    /// A set of declared role names.
    Roles(Vec<String>),
    List(Vec<RV>),
    Map(Attrs),
}

pub struct Reference<'p> {
    policy: &'p Policy,
    file: String,
    lines: LineIndex,
    source: String,
    env: String,
    secrets: Vec<(String, String)>,
    config: Vec<(String, String)>,
    rhai: rhai::Engine,
    /// The script blocks, merged; `None` when one does not compile.
    scripts: Option<rhai::AST>,
    /// The engine clock's time in seconds, for `now` without `context.time`.
    clock_secs: Option<f64>,
}

/// The outcome: allowed, and the deciding grant or rule as `file:line`.
pub type Outcome = (bool, Option<String>);

impl<'p> Reference<'p> {
    pub fn new(policy: &'p Policy, file: &str, source: &str, env: &str) -> Self {
        Reference {
            policy,
            file: file.into(),
            lines: LineIndex::new(source),
            source: source.into(),
            env: env.into(),
            secrets: Vec::new(),
            config: Vec::new(),
            rhai: {
                use rhai::packages::Package;
                static STD: std::sync::LazyLock<rhai::Shared<rhai::Module>> =
                    std::sync::LazyLock::new(|| {
                        rhai::packages::StandardPackage::new().as_shared_module()
                    });
                let mut rhai = rhai::Engine::new_raw();
                rhai.register_global_module(STD.clone());
                rhai.set_max_operations(100_000);
                rhai.on_print(|_| {});
                rhai
            },
            scripts: None,
            clock_secs: None,
        }
        .with_scripts()
    }

    pub fn with_clock_secs(mut self, secs: f64) -> Self {
        self.clock_secs = Some(secs);
        self
    }

    pub fn with_secret(mut self, name: &str, value: &str) -> Self {
        self.secrets.push((name.into(), value.into()));
        self
    }

    fn loc(&self, span: Span) -> String {
        let (line, _) = self.lines.line_col(&self.source, span.start as usize);
        format!("{}:{line}", self.file)
    }

    fn declared(&self, name: &str) -> bool {
        self.policy
            .items
            .iter()
            .any(|i| matches!(i, Item::Role(r) if r.name.name == name))
    }

    /// Whether role `a` is `b` or inherits it, following parent edges depth first.
    fn inherits(&self, a: &str, b: &str) -> bool {
        let mut seen = Vec::new();
        let mut stack = vec![a.to_string()];
        while let Some(r) = stack.pop() {
            if r == b {
                return true;
            }
            if seen.contains(&r) {
                continue;
            }
            seen.push(r.clone());
            for item in &self.policy.items {
                if let Item::Role(d) = item {
                    if d.name.name == r {
                        stack.extend(d.parents.iter().map(|p| p.name.clone()));
                    }
                }
            }
        }
        false
    }

    pub fn authorize(&self, req: &Request) -> Outcome {
        let roles: Vec<&str> = req.principal.as_ref().map_or(Vec::new(), |p| {
            p.roles
                .iter()
                .map(String::as_str)
                .filter(|r| self.declared(r))
                .collect()
        });
        let mut permit = None;
        for item in &self.policy.items {
            if let Item::Grant(g) = item {
                let covers = g.actions.iter().any(|a| a.kind.matches(&req.action));
                let given = g
                    .roles
                    .iter()
                    .any(|gr| roles.iter().any(|r| self.inherits(r, &gr.name)));
                if covers && given {
                    permit = Some(self.loc(g.span));
                    break;
                }
            }
        }
        let rules: Vec<&Rule> = self
            .policy
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Rule(r) => Some(r),
                _ => None,
            })
            .filter(|r| r.actions.iter().any(|a| a.kind.matches(&req.action)))
            .filter(|r| {
                r.on.is_empty()
                    || req
                        .resource
                        .as_ref()
                        .is_some_and(|res| r.on.iter().any(|t| t.name == res.ty))
            })
            .collect();
        if permit.is_none() {
            permit = rules
                .iter()
                .find(|r| r.effect == Effect::Allow && self.rule_matches(r, req))
                .map(|r| self.loc(r.span));
        }
        let Some(permit) = permit else {
            return (false, None);
        };
        match rules
            .iter()
            .find(|r| r.effect == Effect::Deny && self.rule_matches(r, req))
        {
            Some(d) => (false, Some(self.loc(d.span))),
            None => (true, Some(permit)),
        }
    }

    fn rule_matches(&self, rule: &Rule, req: &Request) -> bool {
        let Some(cond) = &rule.cond else { return true };
        let want = cond.kind == CondKind::If;
        match self.eval(&rule.on, &cond.expr, req) {
            RV::Bool(b) => b == want,
            _ => rule.effect == Effect::Deny && rule.missing != Some(OnMissing::Skip),
        }
    }

    /// Declared type of `root.attr` under the rule's `on` list.
    fn declared_type(&self, on: &[Ident], root: Root, attr: &str) -> Option<Type> {
        if root == Root::Principal && attr == "roles" {
            return Some(Type::Set(Box::new(Type::Role)));
        }
        let mut found = None;
        for item in &self.policy.items {
            let Item::Shape(s) = item else { continue };
            let fits = match (&s.kind, root) {
                (ShapeKind::Principal, Root::Principal) => true,
                (ShapeKind::Context, Root::Context) => true,
                (ShapeKind::Resource(t), Root::Resource) => {
                    on.is_empty() || on.iter().any(|o| o.name == t.name)
                }
                _ => false,
            };
            for a in s.attrs.iter().filter(|a| fits && a.name.name == attr) {
                if a.ty == Type::Role || a.ty == Type::Set(Box::new(Type::Role)) {
                    found = Some(a.ty.clone());
                }
            }
        }
        found
    }

    pub fn eval(&self, on: &[Ident], e: &Expr, req: &Request) -> RV {
        match &e.kind {
            ExprKind::Str(s) => RV::Str(s.clone()),
            ExprKind::Num(n) => RV::Num(*n),
            ExprKind::Bool(b) => RV::Bool(*b),
            ExprKind::Size { value, unit } => RV::Num((value * unit.bytes()) as f64),
            ExprKind::Duration { value, unit } => RV::Num((value * unit.millis()) as f64 / 1000.0),
            ExprKind::List(items) => {
                let vs: Vec<RV> = items.iter().map(|x| self.eval(on, x, req)).collect();
                if vs.contains(&RV::Missing) {
                    RV::Missing
                } else {
                    RV::List(vs)
                }
            }
            ExprKind::Path(p) => self.path(on, p, req),
            ExprKind::Header(_) | ExprKind::Cookie(_) | ExprKind::Ip => RV::Missing,
            ExprKind::Env => RV::Str(self.env.clone()),
            ExprKind::Config(n) => self
                .config
                .iter()
                .find(|(k, _)| *k == n.name)
                .map_or(RV::Missing, |(_, v)| RV::Str(v.clone())),
            ExprKind::Secret { name: n, .. } => self
                .secrets
                .iter()
                .find(|(k, _)| *k == n.name)
                .map_or(RV::Missing, |(_, v)| RV::Str(v.clone())),
            ExprKind::RoleName(r) => RV::Role(r.name.clone()),
            ExprKind::Call { func, args } => {
                let mut dyns = Vec::new();
                for a in args {
                    match to_dynamic(&self.eval(on, a, req)) {
                        Some(d) => dyns.push(d),
                        None => return RV::Missing,
                    }
                }
                self.call(&func.name, dyns)
            }
            ExprKind::Not(x) => match self.eval(on, x, req) {
                RV::Bool(b) => RV::Bool(!b),
                _ => RV::Missing,
            },
            ExprKind::Binary { op, lhs, rhs } => self.binary(on, *op, lhs, rhs, req),
            ExprKind::Matches { expr, regex } => match self.eval(on, expr, req) {
                RV::Str(s) => regex::Regex::new(&regex.value)
                    .map_or(RV::Missing, |re| RV::Bool(re.is_match(&s))),
                _ => RV::Missing,
            },
            ExprKind::Is { expr, role } => {
                let anonymous_principal = matches!(&expr.kind, ExprKind::Path(p) if p.root == Root::Principal && p.attrs.is_empty())
                    && req.principal.is_none();
                if anonymous_principal {
                    return RV::Bool(false);
                }
                match self.as_roles(self.eval(on, expr, req)) {
                    Some(rs) => RV::Bool(rs.iter().any(|r| self.inherits(r, &role.name))),
                    None => RV::Missing,
                }
            }
            ExprKind::Len(x) => match self.eval(on, x, req) {
                RV::Str(s) => RV::Num(s.chars().count() as f64),
                RV::List(l) => RV::Num(l.len() as f64),
                RV::Roles(l) => RV::Num(l.len() as f64),
                _ => RV::Missing,
            },
            ExprKind::Lower(x) => match self.eval(on, x, req) {
                RV::Str(s) => RV::Str(s.to_ascii_lowercase()),
                _ => RV::Missing,
            },
            ExprKind::IsInt(x) => match self.eval(on, x, req) {
                RV::Num(n) => RV::Bool(n.is_finite() && n == n.trunc()),
                _ => RV::Missing,
            },
            // LANGUAGE.md: `context.time` (seconds or RFC 3339) wins over the clock; a
            // `context.time` of another kind is missing.
            ExprKind::Now => match req.context.get("time") {
                None | Some(Value::Null) => self.clock_secs.map_or(RV::Missing, RV::Num),
                Some(Value::Number(n)) => RV::Num(*n),
                Some(Value::String(t)) => warden::http::parse_time(t)
                    .map_or(RV::Missing, |us| RV::Num(us as f64 / 1_000_000.0)),
                Some(_) => RV::Missing,
            },
            ExprKind::IfElse {
                cond,
                then,
                otherwise,
            } => match self.eval(on, cond, req) {
                RV::Bool(true) => self.eval(on, then, req),
                RV::Bool(false) => self.eval(on, otherwise, req),
                _ => RV::Missing,
            },
            ExprKind::HeaderSafe { text, max } => {
                let ExprKind::Num(max) = max.kind else {
                    return RV::Missing;
                };
                match self.eval(on, text, req) {
                    RV::Str(s) => RV::Str(
                        s.chars()
                            .take(max as usize)
                            .map(|c| {
                                let printable = (' '..='~').contains(&c);
                                if printable && !"\"/;\\".contains(c) {
                                    c
                                } else {
                                    '_'
                                }
                            })
                            .collect(),
                    ),
                    _ => RV::Missing,
                }
            }
            ExprKind::IsIn { expr, role, org } => {
                let bare = matches!(&expr.kind, ExprKind::Path(p) if p.root == Root::Principal && p.attrs.is_empty());
                if !bare || !self.declared(&role.name) {
                    return RV::Missing;
                }
                let org = self.eval(on, org, req);
                let Some(p) = &req.principal else {
                    return RV::Bool(false);
                };
                let RV::Str(org) = org else {
                    return RV::Missing;
                };
                let Some(Value::Map(orgs)) = p.attrs.get("org_roles") else {
                    return RV::Missing;
                };
                let Some(Value::List(names)) = orgs.get(&org) else {
                    return RV::Missing;
                };
                let mut held = Vec::new();
                for n in names {
                    match n {
                        Value::String(s) if self.declared(s) => held.push(s.clone()),
                        _ => return RV::Missing,
                    }
                }
                RV::Bool(held.iter().any(|r| self.inherits(r, &role.name)))
            }
        }
    }

    fn path(&self, on: &[Ident], p: &Path, req: &Request) -> RV {
        if p.root == Root::Principal && p.attrs.is_empty() {
            return match &req.principal {
                Some(pr) => RV::Roles(
                    pr.roles
                        .iter()
                        .filter(|r| self.declared(r))
                        .cloned()
                        .collect(),
                ),
                None => RV::Missing,
            };
        }
        let Some(first) = p.attrs.first() else {
            return RV::Missing;
        };
        let raw: Option<Value> = match p.root {
            Root::Principal => req
                .principal
                .as_ref()
                .and_then(|pr| match first.name.as_str() {
                    "id" => Some(Value::String(pr.id.clone())),
                    "roles" => Some(Value::List(
                        pr.roles.iter().map(|r| Value::String(r.clone())).collect(),
                    )),
                    n => pr.attrs.get(n).cloned(),
                }),
            Root::Resource => req
                .resource
                .as_ref()
                .and_then(|r| match first.name.as_str() {
                    "id" => Some(Value::String(r.id.clone())),
                    "type" => Some(Value::String(r.ty.clone())),
                    n => r.attrs.get(n).cloned(),
                }),
            Root::Context => req.context.get(&first.name).cloned(),
            Root::Input | Root::Request => None,
        };
        let mut v = raw;
        for a in &p.attrs[1..] {
            v = match v {
                Some(Value::Map(m)) => m.get(&a.name).cloned(),
                _ => None,
            };
        }
        let v = to_rv(v);
        if p.attrs.len() != 1 {
            return v;
        }
        let principal_roles = p.root == Root::Principal && first.name == "roles";
        match (self.declared_type(on, p.root, &first.name), v) {
            (None, v) => v,
            (_, RV::Missing) => RV::Missing,
            (Some(_), RV::List(items)) if principal_roles => RV::Roles(
                items
                    .into_iter()
                    .filter_map(|x| match x {
                        RV::Str(s) if self.declared(&s) => Some(s),
                        _ => None,
                    })
                    .collect(),
            ),
            (Some(Type::Role), RV::Str(s)) if self.declared(&s) => RV::Role(s),
            (Some(Type::Set(_)), RV::List(items)) => {
                let names: Vec<String> = items
                    .iter()
                    .filter_map(|x| match x {
                        RV::Str(s) if self.declared(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                if names.len() == items.len() {
                    RV::Roles(names)
                } else {
                    RV::Missing
                }
            }
            _ => RV::Missing,
        }
    }

    /// A value as role names: a role, a role set, or a string naming a declared role.
    fn as_roles(&self, v: RV) -> Option<Vec<String>> {
        match v {
            RV::Role(r) => Some(vec![r]),
            RV::Roles(rs) => Some(rs),
            RV::Str(s) if self.declared(&s) => Some(vec![s]),
            _ => None,
        }
    }

    fn ge(&self, a: &[String], b: &[String]) -> bool {
        b.iter().all(|rb| a.iter().any(|ra| self.inherits(ra, rb)))
    }

    fn equal(&self, a: &RV, b: &RV) -> Option<bool> {
        use RV::*;
        match (a, b) {
            (Num(x), Num(y)) => Some(x == y),
            (Bool(x), Bool(y)) => Some(x == y),
            (Str(x), Str(y)) => Some(x == y),
            (Role(x), Str(y)) | (Str(y), Role(x)) => Some(x == y),
            (Role(_) | Roles(_), Role(_) | Roles(_)) => {
                let x = self.as_roles(a.clone())?;
                let y = self.as_roles(b.clone())?;
                Some(x.iter().all(|r| y.contains(r)) && y.iter().all(|r| x.contains(r)))
            }
            (List(x), List(y)) => Some(
                x.iter().all(|e| self.member(b, e) == Some(true))
                    && y.iter().all(|e| self.member(a, e) == Some(true)),
            ),
            _ => None,
        }
    }

    fn member(&self, coll: &RV, x: &RV) -> Option<bool> {
        match coll {
            RV::List(items) => Some(items.iter().any(|e| self.equal(e, x) == Some(true))),
            RV::Roles(rs) => Some(
                rs.iter()
                    .any(|r| self.equal(&RV::Role(r.clone()), x) == Some(true)),
            ),
            _ => None,
        }
    }

    fn binary(&self, on: &[Ident], op: BinOp, l: &Expr, r: &Expr, req: &Request) -> RV {
        let truth = |v: RV| match v {
            RV::Bool(b) => Some(b),
            _ => None,
        };
        match op {
            BinOp::And => {
                return match truth(self.eval(on, l, req)) {
                    Some(false) => RV::Bool(false),
                    Some(true) => truth(self.eval(on, r, req)).map_or(RV::Missing, RV::Bool),
                    None => RV::Missing,
                }
            }
            BinOp::Or => {
                return match truth(self.eval(on, l, req)) {
                    Some(true) => RV::Bool(true),
                    Some(false) => truth(self.eval(on, r, req)).map_or(RV::Missing, RV::Bool),
                    None => RV::Missing,
                }
            }
            BinOp::Coalesce => {
                return match self.eval(on, l, req) {
                    RV::Missing => self.eval(on, r, req),
                    v => v,
                }
            }
            _ => {}
        }
        let (a, b) = (self.eval(on, l, req), self.eval(on, r, req));
        if a == RV::Missing || b == RV::Missing {
            return RV::Missing;
        }
        let bo = |o: Option<bool>| o.map_or(RV::Missing, RV::Bool);
        let strs = |a: &RV, b: &RV| match (a, b) {
            (RV::Str(x), RV::Str(y)) => Some((x.clone(), y.clone())),
            _ => None,
        };
        match op {
            BinOp::Eq => bo(self.equal(&a, &b)),
            BinOp::Ne => bo(self.equal(&a, &b).map(|x| !x)),
            BinOp::In => bo(self.member(&b, &a)),
            BinOp::SubsetOf => match (&a, &b) {
                (RV::List(xs), RV::List(_) | RV::Roles(_)) => {
                    bo(Some(xs.iter().all(|x| self.member(&b, x) == Some(true))))
                }
                (RV::Roles(rs), RV::List(_) | RV::Roles(_)) => {
                    bo(Some(rs.iter().all(|r| {
                        self.member(&b, &RV::Role(r.clone())) == Some(true)
                    })))
                }
                _ => RV::Missing,
            },
            BinOp::Contains => match &a {
                RV::List(_) | RV::Roles(_) => bo(self.member(&a, &b)),
                _ => bo(strs(&a, &b).map(|(x, y)| x.contains(&y))),
            },
            BinOp::StartsWith => bo(strs(&a, &b).map(|(x, y)| x.starts_with(&y))),
            BinOp::EndsWith => bo(strs(&a, &b).map(|(x, y)| x.ends_with(&y))),
            BinOp::Concat => match (&a, &b) {
                (RV::Num(x), RV::Num(y)) => RV::Num(x + y),
                _ => strs(&a, &b).map_or(RV::Missing, |(x, y)| RV::Str(format!("{x}{y}"))),
            },
            BinOp::Sub => match (&a, &b) {
                (RV::Num(x), RV::Num(y)) => RV::Num(x - y),
                _ => RV::Missing,
            },
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if let (RV::Num(x), RV::Num(y)) = (&a, &b) {
                    return RV::Bool(match op {
                        BinOp::Lt => x < y,
                        BinOp::Le => x <= y,
                        BinOp::Gt => x > y,
                        _ => x >= y,
                    });
                }
                let roleish = |v: &RV| matches!(v, RV::Role(_) | RV::Roles(_));
                if !roleish(&a) && !roleish(&b) {
                    return RV::Missing;
                }
                let (Some(x), Some(y)) = (self.as_roles(a), self.as_roles(b)) else {
                    return RV::Missing;
                };
                RV::Bool(match op {
                    BinOp::Ge => self.ge(&x, &y),
                    BinOp::Gt => self.ge(&x, &y) && !self.ge(&y, &x),
                    BinOp::Le => self.ge(&y, &x),
                    _ => self.ge(&y, &x) && !self.ge(&x, &y),
                })
            }
            BinOp::And | BinOp::Or | BinOp::Coalesce => RV::Missing,
        }
    }
}

impl Reference<'_> {
    fn with_scripts(mut self) -> Self {
        let mut ast = rhai::AST::empty();
        for item in &self.policy.items {
            if let Item::Script(s) = item {
                match self.rhai.compile(&s.source) {
                    Ok(a) => ast = ast.merge(&a),
                    Err(_) => return self,
                }
            }
        }
        self.scripts = Some(ast);
        self
    }

    /// Call one script function, sandboxed.
    fn call(&self, name: &str, args: Vec<rhai::Dynamic>) -> RV {
        let Some(ast) = &self.scripts else {
            return RV::Missing;
        };
        let opts = rhai::CallFnOptions::new().eval_ast(false);
        let Ok(out) = self.rhai.call_fn_with_options::<rhai::Dynamic>(
            opts,
            &mut rhai::Scope::new(),
            ast,
            name,
            args,
        ) else {
            return RV::Missing;
        };
        if out.is::<bool>() {
            RV::Bool(out.cast::<bool>())
        } else if out.is::<rhai::INT>() {
            RV::Num(out.cast::<rhai::INT>() as f64)
        } else if out.is::<rhai::FLOAT>() {
            RV::Num(out.cast::<rhai::FLOAT>())
        } else if out.is::<rhai::ImmutableString>() {
            RV::Str(out.cast::<rhai::ImmutableString>().to_string())
        } else {
            RV::Missing
        }
    }
}

fn to_dynamic(v: &RV) -> Option<rhai::Dynamic> {
    use rhai::Dynamic;
    Some(match v {
        RV::Missing => return None,
        RV::Bool(b) => Dynamic::from(*b),
        RV::Num(n) => Dynamic::from(*n),
        RV::Str(s) | RV::Role(s) => Dynamic::from(s.clone()),
        RV::Roles(rs) => Dynamic::from_array(rs.iter().map(|r| Dynamic::from(r.clone())).collect()),
        RV::List(items) => {
            Dynamic::from_array(items.iter().map(to_dynamic).collect::<Option<Vec<_>>>()?)
        }
        RV::Map(m) => {
            let mut map = rhai::Map::new();
            for (k, v) in &m.0 {
                if let Some(d) = to_dynamic(&to_rv(Some(v.clone()))) {
                    map.insert(k.as_str().into(), d);
                }
            }
            Dynamic::from_map(map)
        }
    })
}

fn to_rv(v: Option<Value>) -> RV {
    match v {
        None | Some(Value::Null) => RV::Missing,
        Some(Value::Bool(b)) => RV::Bool(b),
        Some(Value::Number(n)) => RV::Num(n),
        Some(Value::String(s)) => RV::Str(s),
        Some(Value::List(l)) => RV::List(l.into_iter().map(|x| to_rv(Some(x))).collect()),
        Some(Value::Map(m)) => RV::Map(m),
    }
}

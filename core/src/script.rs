//! Rhai script functions called from conditions: compiled once at load, run sandboxed.
//!
//! Native conditions never go through Rhai; only `name(args)` calls do. A call whose
//! argument is missing, that fails, exceeds its operation budget or returns a value
//! that is not a bool, number or string is *missing*.

use crate::value::V;
use rhai::{CallFnOptions, Dynamic, Engine as Rhai, Scope, AST};
use std::borrow::Cow;
use std::fmt;
use warden_lang::ast::{self, Item};
use warden_lang::{Diagnostic, Limits};

/// The policy's script functions.
pub(crate) struct Scripts {
    rhai: Rhai,
    ast: AST,
}

impl fmt::Debug for Scripts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .ast
            .iter_functions()
            .map(|f| f.name.to_string())
            .collect();
        f.debug_struct("Scripts")
            .field("functions", &names)
            .finish()
    }
}

/// The front-end's sandbox, so that checking and running a script have the same limits.
fn sandbox(limits: &Limits) -> Rhai {
    warden_lang::script_sandbox(limits)
}

impl Scripts {
    /// Compile every `script` block; `None` when the policy has none.
    pub fn compile(
        policy: &ast::Policy,
        limits: &Limits,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Scripts> {
        // No script, no sandbox: building one (and, once per process, Rhai's standard
        // library) was most of a fresh process's first load of a script-free policy.
        if !policy.items.iter().any(|i| matches!(i, Item::Script(_))) {
            return None;
        }
        let rhai = sandbox(limits);
        let mut merged: Option<AST> = None;
        for item in &policy.items {
            let Item::Script(s) = item else { continue };
            match rhai.compile(&s.source) {
                Ok(ast) => {
                    merged = Some(match merged {
                        Some(m) => m.merge(&ast),
                        None => ast,
                    })
                }
                Err(e) => diags.push(Diagnostic::error(
                    "script-syntax",
                    s.span,
                    format!("script error: {}", e.0),
                )),
            }
        }
        merged.map(|ast| Scripts { rhai, ast })
    }

    pub fn has(&self, name: &str, arity: usize) -> bool {
        self.ast
            .iter_functions()
            .any(|f| f.name == name && f.params.len() == arity)
    }

    /// Call a function; `None` (missing) on any failure.
    pub fn call(&self, name: &str, args: Vec<Dynamic>) -> Option<V<'static>> {
        let opts = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let out: Dynamic = self
            .rhai
            .call_fn_with_options(opts, &mut Scope::new(), &self.ast, name, args)
            .ok()?;
        from_dynamic(out)
    }
}

fn from_dynamic(d: Dynamic) -> Option<V<'static>> {
    if let Some(b) = d.clone().try_cast::<bool>() {
        return Some(V::Bool(b));
    }
    if let Some(i) = d.clone().try_cast::<rhai::INT>() {
        return Some(V::Num(i as f64));
    }
    if let Some(f) = d.clone().try_cast::<rhai::FLOAT>() {
        return Some(V::Num(f));
    }
    if let Some(s) = d.try_cast::<rhai::ImmutableString>() {
        return Some(V::Str(Cow::Owned(s.to_string())));
    }
    None
}

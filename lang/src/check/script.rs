//! `script` blocks: compiled by Rhai at check time; errors mapped to the policy's lines.

use super::symbols::Symbols;
use crate::ast::*;
use crate::diag::Diagnostic;
use crate::limits::Limits;

/// Rhai's standard library, built once per process and shared by every engine: building
/// it is most of the cost of `rhai::Engine::new()`.
static STD: std::sync::LazyLock<rhai::Shared<rhai::Module>> = std::sync::LazyLock::new(|| {
    use rhai::packages::Package as _;
    rhai::packages::StandardPackage::new().as_shared_module()
});

/// The one sandbox for policy scripts, used by the checker and the engine: no I/O (print
/// and debug go nowhere, no `eval`), bounded operations, depth and sizes.
pub fn sandbox(limits: &Limits) -> rhai::Engine {
    let mut rhai = rhai::Engine::new_raw();
    rhai.register_global_module(STD.clone());
    rhai.on_print(|_| {});
    rhai.on_debug(|_, _, _| {});
    rhai.disable_symbol("eval");
    rhai.set_max_operations(limits.max_script_operations);
    rhai.set_max_expr_depths(limits.max_script_depth, limits.max_script_depth);
    rhai.set_max_call_levels(limits.max_script_depth);
    rhai.set_max_string_size(limits.max_literal_len);
    rhai.set_max_array_size(10_000);
    rhai.set_max_map_size(10_000);
    rhai
}

pub(crate) fn check(
    policy: &Policy,
    limits: &Limits,
    syms: &mut Symbols,
    diags: &mut Vec<Diagnostic>,
) {
    // Most policies have no script: building the sandbox (and, once per process,
    // Rhai's standard library) is then skipped.
    if !policy.items.iter().any(|i| matches!(i, Item::Script(_))) {
        return;
    }
    let engine = sandbox(limits);
    for item in &policy.items {
        let Item::Script(s) = item else { continue };
        match engine.compile(&s.source) {
            Ok(ast) => {
                for f in ast.iter_functions() {
                    let arities = syms.functions.entry(f.name.to_string()).or_default();
                    if arities.contains(&f.params.len()) {
                        diags.push(
                            Diagnostic::error(
                                "duplicate",
                                s.span,
                                format!(
                                    "script function `{}` with {} parameter(s) is defined twice",
                                    f.name,
                                    f.params.len()
                                ),
                            )
                            .with_help("rename one of them"),
                        );
                    }
                    arities.push(f.params.len());
                }
            }
            Err(e) => {
                let offset = position_offset(&s.source, e.1.line(), e.1.position());
                let at = s.source_span.start + offset as u32;
                diags.push(
                    Diagnostic::error("script-syntax", Span::new(at, at + 1), format!("script error: {}", e.0))
                        .with_help("see the Rhai book for the script syntax; scripts may only define functions"),
                );
            }
        }
    }
}

/// Byte offset in `source` of a 1-based line and column from Rhai.
fn position_offset(source: &str, line: Option<usize>, col: Option<usize>) -> usize {
    let Some(line) = line else { return 0 };
    let start: usize = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_text = source[start.min(source.len())..]
        .lines()
        .next()
        .unwrap_or("");
    let col_bytes: usize = line_text
        .chars()
        .take(col.unwrap_or(1).saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    (start + col_bytes).min(source.len())
}

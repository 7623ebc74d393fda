//! Every size and depth bound of the front-end, in one place, with its default.
//!
//! Each bound has its own diagnostic code, so a policy that hits one says which.

/// Bounds applied while parsing and checking a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted source file, in bytes (`source-too-large`). Default 16 MiB:
    /// a 10,000-rule policy is under 1 MiB.
    pub max_source_bytes: usize,
    /// Deepest nesting of `(`, `[`, `{` (`nesting-too-deep`), checked before the
    /// parser recurses; brackets are counted over the whole text, literals included.
    /// Also bounds a run of consecutive `not`. Default 64. The parser and every later
    /// pass recurse once (or a few times) per level, and this bound is what keeps
    /// them within the calling thread's stack: at 64 a load needs under 1 MiB of stack
    /// in a debug build and under 256 KiB optimised; raise it with the stack to match.
    pub max_nesting: usize,
    /// Longest identifier, in bytes (`name-too-long`). Default 256.
    pub max_ident_len: usize,
    /// Longest string or regex literal, in bytes (`literal-too-long`). Default 64 KiB.
    pub max_literal_len: usize,
    /// Most operators and operands in one expression (`expression-too-large`). Default 1,024:
    /// it also bounds the depth of the tree that every later pass walks recursively.
    pub max_expr_nodes: usize,
    /// Compiled size limit of one regex, in bytes, passed to the `regex` crate
    /// (`regex-too-large`). Default 1 MiB.
    pub max_regex_bytes: usize,
    /// Most syntax errors reported for one file before giving up. Default 50.
    pub max_syntax_errors: usize,
    /// Most pest rule calls for one parse (`parser-call-limit`), a backstop against
    /// pathological inputs. Default 200 million.
    pub max_parser_calls: usize,
    /// Rhai: most operations while compiling a script block. Default 100,000.
    pub max_script_operations: u64,
    /// Rhai: deepest expression nesting in a script block. Default 64.
    pub max_script_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_source_bytes: 16 << 20,
            max_nesting: 64,
            max_ident_len: 256,
            max_literal_len: 64 << 10,
            max_expr_nodes: 1024,
            max_regex_bytes: 1 << 20,
            max_syntax_errors: 50,
            max_parser_calls: 200_000_000,
            max_script_operations: 100_000,
            max_script_depth: 64,
        }
    }
}

//! Bounds on host values converted into a request: nesting depth, node count, string bytes.
//!
//! Hosts hand over arbitrary objects; these bounds turn a deeply nested or huge value into
//! a `RequestError` before conversion can exhaust the stack or memory.

use std::fmt::Display;
use warden::RequestError;

/// Deepest nesting of lists and maps inside one attribute value.
pub const MAX_DEPTH: u32 = 32;
/// Most values (scalars, list items, map entries) converted for one request.
pub const MAX_NODES: u32 = 100_000;
/// Longest string converted, in UTF-8 bytes.
pub const MAX_STRING_BYTES: usize = 1 << 20;

/// The remaining allowance of one request's conversion.
#[derive(Debug, Clone)]
pub struct Budget {
    depth: u32,
    nodes: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Self::new()
    }
}

impl Budget {
    pub fn new() -> Self {
        Budget { depth: 0, nodes: 0 }
    }

    /// Count one value; `what` names it in the error (`principal.tags`; built only on error).
    pub fn node(&mut self, what: &dyn Display) -> Result<(), RequestError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(RequestError::new(format!(
                "`{what}`: the request has more than {MAX_NODES} values"
            )));
        }
        Ok(())
    }

    /// Check a string's length before copying it.
    pub fn string(&self, what: &dyn Display, bytes: usize) -> Result<(), RequestError> {
        if bytes > MAX_STRING_BYTES {
            return Err(RequestError::new(format!(
                "`{what}`: a string of {bytes} bytes is longer than the limit of {MAX_STRING_BYTES}"
            )));
        }
        Ok(())
    }

    /// Enter a list or map; pair with [`Budget::leave`].
    pub fn enter(&mut self, what: &dyn Display) -> Result<(), RequestError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RequestError::new(format!(
                "`{what}` nests lists and maps deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_nodes_and_strings_are_bounded() {
        let mut b = Budget::new();
        for _ in 0..MAX_DEPTH {
            assert!(b.enter(&"x").is_ok());
        }
        assert!(b
            .enter(&"x")
            .is_err_and(|e| e.message.contains("deeper than 32")));
        let b2 = Budget::new();
        assert!(b2.string(&"s", MAX_STRING_BYTES).is_ok());
        assert!(b2.string(&"s", MAX_STRING_BYTES + 1).is_err());
        let mut b3 = Budget::new();
        let mut n = 0;
        while b3.node(&"v").is_ok() {
            n += 1;
        }
        assert_eq!(n, MAX_NODES);
    }
}

//! Shortcuts past the general evaluator for the commonest shapes of limit keys and
//! requirements, each with a test that it agrees with `eval`.

use crate::cx::HttpView;
use crate::eval;
use crate::http_request::HttpRequest;
use crate::program::{Hint, InputKind, Konst, Node};
use crate::request::Value;
use crate::subject::Who;
use crate::value::V;
use std::borrow::Cow;
use warden_lang::ast::Root;

/// `principal.NAME ?? ip`, the usual key, without the general evaluator: the same
/// lookups as `eval` for a plain one-name principal load and the client address.
/// `None` for any other shape (or a declared role hint), which `eval` then handles.
pub(super) fn quick_key<'a>(view: &HttpView<'a>, node: &'a Node) -> Option<V<'a>> {
    let Node::Coalesce(a, b) = node else {
        return None;
    };
    if !matches!(**b, Node::Ip) {
        return None;
    }
    let name = plain_attr(a, Root::Principal)?;
    let from_principal = view
        .principal
        .map_or(V::Missing, |p| Who::Built(p).get(name));
    Some(match from_principal {
        V::Missing => view
            .ip
            .text()
            .map_or(V::Missing, |ip| V::Str(Cow::Borrowed(ip))),
        v => v,
    })
}

/// `NAME` when `node` reads `root.NAME`: one name, no declared role hint (the shape
/// the shortcuts above `eval` handle).
fn plain_attr(node: &Node, root: Root) -> Option<&str> {
    one_name(node, root, |h| h == Hint::Plain)
}

/// `NAME` when `node` reads `root.NAME`, one name, with a hint `fits` accepts.
fn one_name(node: &Node, root: Root, fits: impl Fn(Hint) -> bool) -> Option<&str> {
    match node {
        Node::Load {
            root: r,
            path,
            hint,
        } if *r == root && fits(*hint) => match &**path {
            [name] => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// `input.NAME <op> NUMBER` (`<`, `<=`, `>`, `>=`), the usual body-size check, without
/// the general evaluator: the same answer as `eval`, where an input that is absent or
/// not a number makes the comparison missing. `None` for any other shape.
pub(super) fn input_compare(req: &HttpRequest, node: &Node) -> Option<Option<bool>> {
    let Node::Bin(op, a, b) = node else {
        return None;
    };
    let Node::Const(Konst::Num(k)) = &**b else {
        return None;
    };
    // A field declared `number` reads as here: anything but a number is missing.
    let name = one_name(a, Root::Input, |h| {
        matches!(h, Hint::Plain | Hint::Input(InputKind::Num))
    })?;
    // Not an ordering (`==`, `in` ...): the evaluator decides.
    eval::num_order(*op, 0.0, 0.0)?;
    Some(match req.input.get(name) {
        Some(Value::Number(x)) => eval::num_order(*op, *x, *k),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    /// An evaluation context over an HTTP view alone (no tables, no clock).
    fn bare_cx<'a>(view: &'a crate::cx::HttpView<'a>) -> crate::cx::Cx<'a> {
        crate::cx::Cx {
            t: None,
            req: None,
            http: Some(view),
            rec: None,
            pmask: None,
            clock: None,
        }
    }

    #[test]
    fn quick_key_agrees_with_eval() {
        use crate::cx::HttpView;
        use crate::eval::eval;
        use crate::program::{Hint, Node};
        use crate::{HttpRequest, Principal};
        use warden_lang::ast::Root;
        let load = |name: &str, hint| Node::Load {
            root: Root::Principal,
            path: vec![Box::from(name)].into_boxed_slice(),
            hint,
        };
        let key = |a: Node| Node::Coalesce(Box::new(a), Box::new(Node::Ip));
        let keys = [
            key(load("api_client", Hint::Plain)),
            key(load("id", Hint::Plain)),
            key(load("absent", Hint::Plain)),
            key(load("n", Hint::Plain)),
        ];
        let req = HttpRequest::new("GET", "/");
        let someone = Principal::new("u1")
            .attr("api_client", "acme")
            .attr("n", 3.0);
        for principal in [Some(&someone), None] {
            for ip in ["203.0.113.7".parse().ok(), None] {
                let ip = crate::client_ip::ClientIp::new(ip);
                let view = HttpView {
                    req: &req,
                    path: "/",
                    query: "",
                    ip: &ip,
                    principal,
                };
                let cx = bare_cx(&view);
                for k in &keys {
                    let quick = super::quick_key(&view, k).map(|v| format!("{v:?}"));
                    assert_eq!(quick, Some(format!("{:?}", eval(&cx, k))));
                }
            }
        }
        // Other shapes (a role hint, a longer path, no `?? ip`) go to `eval`.
        let no_ip = crate::client_ip::ClientIp::new(None);
        let view = HttpView {
            req: &req,
            path: "/",
            query: "",
            ip: &no_ip,
            principal: Some(&someone),
        };
        let two = Node::Load {
            root: Root::Principal,
            path: vec![Box::from("a"), Box::from("b")].into_boxed_slice(),
            hint: Hint::Plain,
        };
        for other in [
            key(load("r", Hint::Role)),
            key(two),
            load("api_client", Hint::Plain),
        ] {
            assert!(super::quick_key(&view, &other).is_none());
        }
    }

    #[test]
    fn input_compare_agrees_with_eval() {
        use crate::cx::HttpView;
        use crate::eval::eval;
        use crate::program::{Hint, Konst, Node};
        use crate::HttpRequest;
        use warden_lang::ast::BinOp;
        use warden_lang::ast::Root;
        let load = |root, name: &str| Node::Load {
            root,
            path: vec![Box::from(name)].into_boxed_slice(),
            hint: Hint::Plain,
        };
        let num = |k: f64| Node::Const(Konst::Num(k));
        let reqs = [
            HttpRequest::new("POST", "/").input("size", 2048.0),
            HttpRequest::new("POST", "/").input("size", 1e9),
            HttpRequest::new("POST", "/").input("size", "big"),
            HttpRequest::new("POST", "/").input("size", true),
            HttpRequest::new("POST", "/"),
        ];
        let ops = [
            BinOp::Lt,
            BinOp::Le,
            BinOp::Gt,
            BinOp::Ge,
            BinOp::Eq,
            BinOp::Ne,
        ];
        let no_ip = crate::client_ip::ClientIp::new(None);
        for req in &reqs {
            let view = HttpView {
                req,
                path: "/",
                query: "",
                ip: &no_ip,
                principal: None,
            };
            let cx = bare_cx(&view);
            for op in ops {
                let node = Node::Bin(
                    op,
                    Box::new(load(Root::Input, "size")),
                    Box::new(num(2048.0)),
                );
                let general = match eval(&cx, &node) {
                    crate::value::V::Bool(b) => Some(b),
                    _ => None,
                };
                match super::input_compare(req, &node) {
                    Some(quick) => assert_eq!(quick, general, "{op:?} on {:?}", req.input),
                    None => assert!(matches!(op, BinOp::Eq | BinOp::Ne), "{op:?} is an ordering"),
                }
            }
        }
        // Other shapes go to `eval`.
        let req = &reqs[0];
        for other in [
            Node::Bin(
                BinOp::Le,
                Box::new(load(Root::Principal, "size")),
                Box::new(num(1.0)),
            ),
            Node::Bin(
                BinOp::Le,
                Box::new(num(1.0)),
                Box::new(load(Root::Input, "size")),
            ),
            load(Root::Input, "size"),
        ] {
            assert!(super::input_compare(req, &other).is_none());
        }
    }
}

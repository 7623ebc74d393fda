//! What evaluation reads: the facts of the request being decided, through a small
//! interface this layer owns (an authorization request through `Subject`, an HTTP
//! request through `HttpView`: its headers, cookies, inputs, method, path, query, client
//! address and principal), the decision tables, the clock and an optional recorder.

use crate::client_ip::ClientIp;
use crate::clock::Clock;
use crate::http_request::HttpRequest;
use crate::request::Principal;
use crate::subject::{Subject, Who};
use crate::tables::Tables;
use std::cell::RefCell;

/// One attribute read, for explain traces.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Read {
    /// The attribute as written, e.g. `resource.owner` or `header x-api-key`.
    pub attribute: String,
    /// Its value as text: `missing`, or `<redacted>` for secrets, headers and cookies.
    pub value: String,
}

/// What an HTTP request shows to route requirements and limit keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpView<'a> {
    pub req: &'a HttpRequest,
    /// The normalised path.
    pub path: &'a str,
    /// The raw query, without `?`.
    pub query: &'a str,
    /// The client address (as text on demand).
    pub ip: &'a ClientIp,
    /// The host's principal or the one `auth` produced; `None`: anonymous.
    pub principal: Option<&'a Principal>,
}

/// What evaluation reads: the tables (roles), the request, and an optional recorder.
pub(crate) struct Cx<'a> {
    pub t: Option<&'a Tables>,
    pub req: Option<Subject<'a>>,
    /// Set when evaluating for an HTTP request (then `req` is `None`).
    pub http: Option<&'a HttpView<'a>>,
    pub rec: Option<&'a RefCell<Vec<Read>>>,
    /// The principal's roles resolved once ([`Tables::role_mask`]); `None` to look up names.
    pub pmask: Option<u64>,
    /// "Now" when the request carries no time; `None` while folding constants.
    pub clock: Option<&'a dyn Clock>,
}

/// The principal of the request being evaluated, authorization or HTTP.
pub(crate) fn principal<'a>(cx: &Cx<'a>) -> Option<Who<'a>> {
    match (cx.req, cx.http) {
        (Some(r), _) => r.principal(),
        (None, Some(h)) => h.principal.map(Who::Built),
        (None, None) => None,
    }
}

/// Whether there is a request at all (not constant folding).
pub(crate) fn has_request(cx: &Cx<'_>) -> bool {
    cx.req.is_some() || cx.http.is_some()
}

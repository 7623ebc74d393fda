//! `http::request::Parts` -> [`warden::HttpRequest`]: what the engine reads of a request.

use http::request::Parts;
use std::net::{IpAddr, SocketAddr};
use warden::HttpRequest;

/// The engine's view of a request: method, path with query as received (the engine
/// normalises it the way it routes), every header (lower-case names, one entry per
/// value) and the client address.
///
/// A header value that is not valid UTF-8 is passed with its invalid bytes replaced,
/// so a credential in it fails verification instead of being skipped.
pub(crate) fn http_request(parts: &Parts, ip: Option<IpAddr>) -> HttpRequest {
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let mut req = HttpRequest::new(parts.method.as_str(), path);
    req.headers.reserve(parts.headers.len());
    for (name, value) in &parts.headers {
        // Visible ASCII (nearly every value) is copied as is; anything else lossily.
        let value = match value.to_str() {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
        };
        req.headers.push((name.as_str().to_owned(), value));
    }
    req.ip = ip;
    req
}

/// The peer address a server put into the request's extensions: a
/// [`std::net::SocketAddr`] (hyper services given one per connection) or axum's
/// `ConnectInfo<SocketAddr>` (`into_make_service_with_connect_info`).
pub(crate) fn peer_ip(parts: &Parts) -> Option<IpAddr> {
    if let Some(addr) = parts.extensions.get::<SocketAddr>() {
        return Some(addr.ip());
    }
    #[cfg(feature = "axum")]
    if let Some(info) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(info.0.ip());
    }
    None
}

//! The HTTP layer: route table, requirements, security headers, CORS and rate limits,
//! answering `Engine::check_http`.

mod request;

pub use request::{parse_time, HttpRequest};

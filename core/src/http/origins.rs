//! `origins: split(config(NAME), ",") [?? "https://a", ...]`: CORS origins read from a
//! host setting when the policy loads.

use crate::options::Options;
use warden_lang::ast::{Ident, StrLit};
use warden_lang::Diagnostic;

/// The origins of a setting, each trimmed and checked to be `scheme://host[:port]`;
/// the fallback when the setting is absent. Errors name the setting, never its value
/// (settings are not secret, but one bad element should not echo a whole list).
pub(crate) fn from_setting(
    options: &Options,
    setting: &Ident,
    separator: &StrLit,
    fallback: &[StrLit],
) -> Result<Vec<String>, Diagnostic> {
    let Some(value) = options.config_value(&setting.name) else {
        if fallback.is_empty() {
            return Err(crate::lower::missing_config(setting));
        }
        return Ok(fallback.iter().map(|s| s.value.clone()).collect());
    };
    let mut out = Vec::new();
    // An empty separator would split between every character; the checker refuses it.
    let parts: Vec<&str> = if separator.value.is_empty() {
        vec![value.as_str()]
    } else {
        value.split(separator.value.as_str()).collect()
    };
    for (i, part) in parts.into_iter().enumerate() {
        let o = part.trim();
        if o.is_empty() {
            // `a,b,` and `a, ,b`: a stray separator adds nothing.
            continue;
        }
        if !warden_lang::valid_origin(o) {
            return Err(Diagnostic::error(
                "invalid-origin",
                setting.span,
                format!(
                    "element {} of setting `{}` is not an origin",
                    i + 1,
                    setting.name
                ),
            )
            .with_help(
                "each element must be `scheme://host[:port]`, without a path or trailing slash",
            ));
        }
        out.push(o.to_string());
    }
    if out.is_empty() {
        return Err(Diagnostic::error(
            "invalid-origin",
            setting.span,
            format!("setting `{}` lists no origin", setting.name),
        )
        .with_help("set it to the allowed origins, e.g. `https://app.example.com`"));
    }
    Ok(out)
}

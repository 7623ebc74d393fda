//! CORS with credentials towards origins that are broad or not reviewed with the policy.

use crate::registry::declare_lint;
use crate::{finding, walk, Finding};
use warden_lang::ast::{CorsValue, ExprKind, Item, Policy};

declare_lint! {
    /// `credentials: true` with an origin list that is broad or decided outside the policy.
    ///
    /// With credentials, every listed origin can read authenticated responses of the
    /// user's session. This lint reports, in a `cors` block with `credentials: true`:
    ///
    /// - a plain `http://` origin other than `localhost`/`127.0.0.1`/`[::1]` on a line
    ///   without `if` (anyone on the network path can inject script into that origin);
    /// - origins read from a setting (`split(config(NAME), ",")`) when no `startup`
    ///   check reads `cors_origins()`: at load the engine checks that each element is
    ///   an origin (`scheme://host[:port]`), not that it is `https` or the app's own,
    ///   so the deployment, not the policy, decides who reads credentialed answers.
    ///
    /// Fix: list the production origins with `https://`, keep development origins on
    /// lines with `if env != "production"`, and check a setting-driven list at load,
    /// e.g. `startup { require cors_origins().len > 0 if env == "production" }`.
    pub CORS_CREDENTIALS_BROAD_ORIGINS, "cors-credentials-broad-origins", Error,
    "CORS with credentials towards a broad, plain-HTTP or unchecked setting-driven origin list"
}

pub(crate) fn check(policy: &Policy, out: &mut Vec<Finding>) {
    let checked_at_load = walk::all(policy)
        .iter()
        .any(|e| matches!(&e.kind, ExprKind::Call { func, .. } if func.name == "cors_origins"));
    for item in &policy.items {
        let Item::Cors(c) = item else { continue };
        let credentials = c
            .entries
            .iter()
            .any(|e| matches!(e.value, CorsValue::Credentials(true)));
        if !credentials {
            continue;
        }
        for e in &c.entries {
            match &e.value {
                CorsValue::Origins(list) => {
                    for o in list {
                        let v = o.value.to_ascii_lowercase();
                        if let Some(host) = v.strip_prefix("http://") {
                            let host = host.split(':').next().unwrap_or("");
                            let local = matches!(host, "localhost" | "127.0.0.1")
                                || v.starts_with("http://[::1]");
                            if !local && e.cond.is_none() {
                                out.push(
                                    finding(
                                        CORS_CREDENTIALS_BROAD_ORIGINS.id,
                                        o.span,
                                        format!("plain-HTTP origin `{}` is allowed with credentials", o.value),
                                    )
                                    .with_label("not https")
                                    .with_help("use `https://`, or allow it only outside production with `if env != \"production\"`"),
                                );
                            }
                        }
                    }
                }
                CorsValue::OriginsFrom { setting, .. } if !checked_at_load => {
                    out.push(
                        finding(
                            CORS_CREDENTIALS_BROAD_ORIGINS.id,
                            setting.span,
                            format!(
                                "origins allowed with credentials come from setting `{}`: the engine checks their form at load, nothing checks their scheme or owner",
                                setting.name
                            ),
                        )
                        .with_label("decided by the deployment, not the policy")
                        .with_help("check the list in `startup` (e.g. `require cors_origins().len > 0 if env == \"production\"`), or list the origins"),
                    );
                }
                _ => {}
            }
        }
    }
}

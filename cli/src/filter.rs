//! `warden filter`: the residual of an action on a resource type for one principal, as
//! JSON, or as a SQL `WHERE` fragment with its parameters (`--sql` with `--columns`).
//!
//! Output (one JSON object on stdout): `{"residual": {...}}`, plus `"sql"` and
//! `"params"` with `--sql`. A rule no filter can express exits 3 with the rule named on
//! stderr: the host must authorize each resource instead.

use std::io::IsTerminal;
use std::path::PathBuf;
use warden::filter::{ColumnMap, Dialect};
use warden::{Attrs, Engine, Options, Principal, Request};

const DONE: u8 = 0;
const BAD_POLICY: u8 = 1;
const BAD_REQUEST: u8 = 2;
const CANNOT_FILTER: u8 = 3;

pub struct Args {
    pub policy: PathBuf,
    pub env: Option<String>,
    pub secrets: Vec<String>,
    pub config: Vec<String>,
    /// The principal as JSON (`{"id": ..., "roles": [...], ...}`); none: anonymous.
    pub principal: Option<String>,
    pub action: String,
    pub resource_type: String,
    /// The context as a JSON object.
    pub context: Option<String>,
    pub sql: Option<SqlChoice>,
    /// The column map as JSON, or `@FILE`.
    pub columns: Option<String>,
    pub first_param: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlChoice {
    Postgres,
    Sqlite,
}

fn json_arg(what: &str, text: &str) -> Result<serde_json::Value, String> {
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("--{what}: cannot read {path}: {e}"))?,
        None => text.to_owned(),
    };
    serde_json::from_str(&text).map_err(|e| format!("--{what}: not JSON: {e}"))
}

/// The principal and context, read as a request JSON reads them.
fn subject(args: &Args) -> Result<(Option<Principal>, Attrs), String> {
    let mut req = serde_json::json!({ "action": args.action });
    if let Some(p) = &args.principal {
        req["principal"] = json_arg("principal", p)?;
    }
    if let Some(c) = &args.context {
        req["context"] = json_arg("context", c)?;
    }
    let req = Request::from_json(&req).map_err(|e| e.to_string())?;
    Ok((req.principal, req.context))
}

pub fn run(args: &Args) -> u8 {
    let mut options = Options::default();
    if let Some(env) = &args.env {
        options.env.clone_from(env);
    }
    for s in &args.secrets {
        // Only the name is ever echoed back: the value is a secret.
        let Some((name, value)) = s.split_once('=') else {
            let name = s.split('=').next().unwrap_or_default();
            eprintln!("error: `--secret {name}` must be NAME=VALUE");
            return BAD_REQUEST;
        };
        options = options.secret(name, value);
    }
    for c in &args.config {
        let Some((name, value)) = c.split_once('=') else {
            eprintln!("error: `--config {c}` must be NAME=VALUE");
            return BAD_REQUEST;
        };
        options = options.config(name, value);
    }
    let (principal, context) = match subject(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return BAD_REQUEST;
        }
    };
    let map = match (&args.sql, &args.columns) {
        (None, _) => None,
        (Some(_), None) => {
            eprintln!("error: --sql needs --columns (a column map, JSON or @FILE)");
            return BAD_REQUEST;
        }
        (Some(_), Some(c)) => match json_arg("columns", c).and_then(|j| {
            serde_json::from_value::<ColumnMap>(j).map_err(|e| format!("--columns: {e}"))
        }) {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("error: {e}");
                return BAD_REQUEST;
            }
        },
    };
    let engine = match Engine::from_file(&args.policy, options) {
        Ok(e) => e,
        Err(err) => {
            eprint!("{}", err.render(std::io::stderr().is_terminal()));
            return BAD_POLICY;
        }
    };
    let residual = match engine.residual(
        &args.action,
        &args.resource_type,
        principal.as_ref(),
        &context,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return CANNOT_FILTER;
        }
    };
    let mut out = serde_json::json!({ "residual": residual.to_json() });
    if let (Some(choice), Some(map)) = (args.sql, &map) {
        let dialect = match choice {
            SqlChoice::Postgres => Dialect::Postgres,
            SqlChoice::Sqlite => Dialect::Sqlite,
        };
        match residual.to_sql(map, dialect, args.first_param) {
            Ok(f) => {
                out["sql"] = f.sql.into();
                out["params"] = serde_json::to_value(&f.params).unwrap_or_default();
            }
            Err(e) => {
                eprintln!("error: {e}");
                return CANNOT_FILTER;
            }
        }
    }
    println!("{out}");
    DONE
}

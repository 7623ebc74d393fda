//! The `warden` command line: one module per subcommand, behind [`run`].
//!
//! A library so that the command ships in more than one shape: the `warden` binary
//! (`src/bin/warden.rs`) and the `warden` script of the Python wheel (the module calls
//! [`run`] with the script's arguments) are the same command.
#![warn(missing_docs)]

mod check;
mod eval;
mod explain;
mod filter;
mod fmt;
mod inputs;
mod lint;
mod lsp;
mod sarif;
mod source;
mod test;
mod watch;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "warden",
    version,
    about = "Policy-as-code for web apps: check, format, lint, evaluate and test Warden policies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse and check policies (files, folders of `*.warden`, or `-` for standard
    /// input); print every diagnostic.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The file name standard input stands for, in messages.
        #[arg(long, value_name = "NAME")]
        stdin_filename: Option<String>,
        /// Check again whenever a file under the paths changes.
        #[arg(long)]
        watch: bool,
    },
    /// Rewrite policies in canonical form (`-`: standard input to standard output);
    /// with `--check`, show a diff and exit 1 instead.
    Fmt {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Change nothing; print what would change and exit 1 if anything would.
        #[arg(long)]
        check: bool,
        /// The file name standard input stands for, in messages.
        #[arg(long, value_name = "NAME")]
        stdin_filename: Option<String>,
    },
    /// Security and correctness lints over policies that check (see `--list`).
    Lint {
        #[arg(required_unless_present_any = ["list", "explain"])]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = lint::LintFormat::Text)]
        format: lint::LintFormat,
        /// The file name standard input stands for, in messages and to find `warden.toml`.
        #[arg(long, value_name = "NAME")]
        stdin_filename: Option<String>,
        /// Use this `warden.toml` instead of the nearest one above each policy.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The findings that make the exit status 1.
        #[arg(long, value_enum, default_value_t = lint::FailOn::Warning)]
        fail_on: lint::FailOn,
        /// List every lint and exit.
        #[arg(long)]
        list: bool,
        /// Print a lint's documentation and exit.
        #[arg(long, value_name = "LINT-ID")]
        explain: Option<String>,
        /// Lint again whenever a file under the paths changes.
        #[arg(long)]
        watch: bool,
    },
    /// Decide authorization requests (JSON object, array or JSON lines) against a policy.
    Eval {
        #[arg(long)]
        policy: PathBuf,
        /// The deployment environment that `env` evaluates to.
        #[arg(long)]
        env: Option<String>,
        /// A secret as NAME=VALUE; otherwise read from the environment variable NAME.
        // A value may start with `-`: clap would otherwise echo it in its error.
        #[arg(long = "secret", value_name = "NAME=VALUE", allow_hyphen_values = true)]
        secrets: Vec<String>,
        /// A non-secret setting for `config(NAME)` as NAME=VALUE; otherwise read from
        /// the environment variable NAME.
        #[arg(long = "config", value_name = "NAME=VALUE")]
        config: Vec<String>,
        /// A request file, or `-` (the default) for standard input.
        #[arg(long)]
        request: Option<PathBuf>,
        /// Explain each decision: a tree naming every rule, route, limit and header
        /// decision with `file:line` (`--format json`: the trace as JSON in each decision).
        #[arg(long)]
        explain: bool,
        /// Decisions as JSON lines (the default) or, with `--explain`, as text trees.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Count rate limits in this Redis (`redis://host:port/db`, or `rediss://` for
        /// TLS), shared with every engine using it, instead of in this process's memory.
        #[arg(long, value_name = "URL")]
        redis_url: Option<String>,
        /// Count rate limits in this Redis Cluster: seed node URLs, comma-separated
        /// (one live seed is enough; the other nodes are discovered).
        #[arg(
            long,
            value_name = "URL[,URL...]",
            value_delimiter = ',',
            conflicts_with = "redis_url"
        )]
        redis_cluster: Vec<String>,
        /// For `rediss://`: trust only the CA certificate(s) in this PEM file instead of
        /// the system's trust store. Certificate verification cannot be turned off.
        #[arg(long, value_name = "FILE")]
        redis_ca: Option<PathBuf>,
        /// What a request gets when the Redis store fails.
        #[arg(long, value_enum, default_value_t = eval::StoreErrorChoice::FailClosed)]
        on_store_error: eval::StoreErrorChoice,
        /// Append one JSON line per decision to FILE (`-`: standard error): ids, route
        /// pattern, outcome, status, deciding `file:line`, latency; never a credential.
        #[arg(long, value_name = "FILE")]
        decision_log: Option<PathBuf>,
        /// The fraction of allowed decisions logged, 0 to 1 (denials are always logged).
        #[arg(
            long,
            value_name = "RATE",
            default_value_t = 1.0,
            requires = "decision_log"
        )]
        log_sample_rate: f64,
        /// A request field to log beyond the ids: `ip`, `method` or `header:NAME`
        /// (headers that carry credentials are refused). Repeatable.
        #[arg(long = "log-field", value_name = "FIELD", requires = "decision_log")]
        log_fields: Vec<String>,
        /// After the decisions, print the metrics (Prometheus text format) on standard
        /// error.
        #[arg(long)]
        metrics: bool,
        /// Decide every request with this policy file too (the policy answers): each
        /// disagreement goes to the decision log (a `candidate` field) and the metrics
        /// (`warden_candidate_disagreements_total`); needs --decision-log or --metrics.
        #[arg(long, value_name = "FILE")]
        candidate: Option<PathBuf>,
    },
    /// The condition under which an action is allowed on a resource type for one
    /// principal (data filtering): always, never, or a condition over `resource.*`,
    /// as JSON or a parameterized SQL `WHERE` fragment. Exit 3: a rule cannot filter.
    Filter {
        #[arg(long)]
        policy: PathBuf,
        /// The principal as JSON (`{"id": "u1", "roles": ["member"]}`) or @FILE;
        /// omitted: anonymous.
        #[arg(long)]
        principal: Option<String>,
        #[arg(long)]
        action: String,
        /// The resource type.
        #[arg(long = "type", value_name = "TYPE")]
        resource_type: String,
        /// The context as a JSON object or @FILE.
        #[arg(long)]
        context: Option<String>,
        /// Also print the residual as a SQL fragment in this dialect.
        #[arg(long, value_enum)]
        sql: Option<filter::SqlChoice>,
        /// The column map (JSON or @FILE): {"table": T, "columns": {ATTR: {"column": C, "type": "string"}}}.
        #[arg(long)]
        columns: Option<String>,
        /// The first PostgreSQL placeholder number ($N).
        #[arg(long, default_value_t = 1)]
        first_param: usize,
        /// The deployment environment that `env` evaluates to.
        #[arg(long)]
        env: Option<String>,
        /// A secret as NAME=VALUE; otherwise read from the environment variable NAME.
        #[arg(long = "secret", value_name = "NAME=VALUE")]
        secrets: Vec<String>,
        /// A setting for `config(NAME)` as NAME=VALUE.
        #[arg(long = "config", value_name = "NAME=VALUE")]
        config: Vec<String>,
    },
    /// Run policy test files (`*.test.toml`, see docs/TESTING.md) under each path.
    Test {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Run only the tests whose `file::name` contains TEXT.
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Report which rules, grants, routes, limits and headers the tests exercised,
        /// and list those none did.
        #[arg(long)]
        coverage: bool,
        /// Report coverage as `--coverage` does, and exit 1 when any grant, rule, route,
        /// limit or header line is exercised by no test (for CI).
        #[arg(long)]
        fail_uncovered: bool,
        /// Run again whenever a file under the paths changes.
        #[arg(long)]
        watch: bool,
    },
    /// A language server over standard input and output (diagnostics from check and
    /// lint, formatting, hover, completion, go to definition, references, rename), for
    /// editors.
    Lsp,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Runs the command line on `args` (the first one is the program name, as in
/// `std::env::args_os`) and returns the process exit status: 0 success, 1 a failed check
/// or test, 2 a usage error (clap's message is printed), 3 a rule that cannot filter.
/// `--help` and `--version` print and return 0: nothing here exits the process, so a
/// host (the Python wheel's `warden` script) keeps control of its own shutdown.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // To stderr for errors, stdout for --help / --version, as `parse` would.
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let code = match cli.command {
        Command::Check {
            paths,
            format,
            stdin_filename,
            watch,
        } => watch::maybe(watch, &paths, || {
            check::run(&paths, format, stdin_filename.as_deref())
        }),
        Command::Fmt {
            paths,
            check,
            stdin_filename,
        } => fmt::run(&paths, check, stdin_filename.as_deref()),
        Command::Lint {
            paths,
            format,
            stdin_filename,
            config,
            fail_on,
            list,
            explain,
            watch,
        } => {
            if list {
                lint::list()
            } else if let Some(id) = explain {
                lint::explain(&id)
            } else {
                let args = lint::Args {
                    paths,
                    format,
                    stdin_filename,
                    config,
                    fail_on,
                };
                watch::maybe(watch, &args.paths, || lint::run(&args))
            }
        }
        Command::Eval {
            policy,
            env,
            secrets,
            config,
            request,
            explain,
            format,
            redis_url,
            redis_cluster,
            redis_ca,
            on_store_error,
            decision_log,
            log_sample_rate,
            log_fields,
            metrics,
            candidate,
        } => eval::run(&eval::Args {
            policy,
            env,
            secrets,
            config,
            request,
            explain,
            format,
            redis_url,
            redis_cluster,
            redis_ca,
            on_store_error,
            decision_log,
            log_sample_rate,
            log_fields,
            metrics,
            candidate,
        }),
        Command::Filter {
            policy,
            principal,
            action,
            resource_type,
            context,
            sql,
            columns,
            first_param,
            env,
            secrets,
            config,
        } => filter::run(&filter::Args {
            policy,
            env,
            secrets,
            config,
            principal,
            action,
            resource_type,
            context,
            sql,
            columns,
            first_param,
        }),
        Command::Test {
            paths,
            filter,
            format,
            coverage,
            fail_uncovered,
            watch,
        } => {
            let args = test::Args {
                paths,
                filter,
                format,
                coverage: coverage || fail_uncovered,
                fail_uncovered,
            };
            watch::maybe(watch, &args.paths, || test::run(&args))
        }
        Command::Lsp => lsp::run(),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "warden", &mut std::io::stdout());
            0
        }
    };
    code
}

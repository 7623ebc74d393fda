//! The test-file format of docs/TESTING.md as serde types. Every table denies unknown
//! keys: a typo in a test file is an error, never a silently skipped check.

use serde::de::{self, Deserializer, MapAccess, Unexpected, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// A whole `NAME.test.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub policy: Spanned<String>,
    pub env: Option<String>,
    pub start: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretValue>,
    /// Values of `config(NAME)`: plain settings, shown in diagnostics.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default, rename = "test")]
    pub tests: Vec<Spanned<Test>>,
    /// `[[startup]]` cases: the policy loads, or fails to load, with these settings.
    #[serde(default, rename = "startup")]
    pub startups: Vec<Spanned<Startup>>,
}

/// One `[[startup]]`: load the policy with its own environment, secrets and settings,
/// and expect it to load or to fail `because` of a given reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Startup {
    pub name: Spanned<String>,
    /// The file's `env` when absent.
    pub env: Option<String>,
    /// Replaces the file's `[secrets]` when given (so that a case can leave one unset).
    pub secrets: Option<BTreeMap<String, SecretValue>>,
    /// Replaces the file's `[config]` when given.
    pub config: Option<BTreeMap<String, String>>,
    /// `"load"` or `"fail"`.
    pub expect: Spanned<String>,
    /// With `"fail"`: text that one of the load errors must contain.
    pub because: Option<Spanned<String>>,
}

/// A test value for `secret(NAME)`: held as a [`warden::Secret`] from the moment it is
/// read, so that no `Debug` of a test file can print it.
#[derive(Debug)]
pub struct SecretValue(pub warden::Secret);

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| SecretValue(warden::Secret::new(s)))
    }
}

/// One `[[test]]`: a single request with its `expect`, or a list of `steps`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Test {
    pub name: Spanned<String>,
    pub principal: Option<toml::Value>,
    pub action: Option<Spanned<toml::Value>>,
    pub resource: Option<toml::Value>,
    pub context: Option<toml::Value>,
    pub http: Option<toml::Value>,
    pub expect: Option<Expect>,
    pub because: Option<Spanned<String>>,
    pub rule: Option<Spanned<String>>,
    pub steps: Option<Vec<Spanned<Step>>>,
}

/// One `[[test.steps]]`: a request sent `repeat` times, or a clock move.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub principal: Option<toml::Value>,
    pub action: Option<Spanned<toml::Value>>,
    pub resource: Option<toml::Value>,
    pub context: Option<toml::Value>,
    pub http: Option<toml::Value>,
    pub expect: Option<Expect>,
    pub because: Option<Spanned<String>>,
    pub rule: Option<Spanned<String>>,
    pub repeat: Option<Spanned<i64>>,
    pub advance: Option<Spanned<String>>,
    pub at: Option<Spanned<toml::Value>>,
}

/// The request and its expectation of a test or a step.
///
/// Tables are not `Spanned`: a table made of dotted keys (`expect.status = 200`) has no
/// span in `toml`, and `Spanned` would refuse it. Errors about them point at the test.
// Not `#[serde(flatten)]`ed into both: flatten buffers values, which loses the spans
// that errors point at and defeats `deny_unknown_fields`.
#[derive(Debug)]
pub struct RequestFields {
    pub principal: Option<toml::Value>,
    pub action: Option<Spanned<toml::Value>>,
    pub resource: Option<toml::Value>,
    pub context: Option<toml::Value>,
    pub http: Option<toml::Value>,
    pub expect: Option<Expect>,
    pub because: Option<Spanned<String>>,
    pub rule: Option<Spanned<String>>,
}

impl Test {
    /// Split into the request part and the rest.
    pub fn into_parts(self) -> (Spanned<String>, RequestFields, Option<Vec<Spanned<Step>>>) {
        let Test {
            name,
            principal,
            action,
            resource,
            context,
            http,
            expect,
            because,
            rule,
            steps,
        } = self;
        let fields = RequestFields {
            principal,
            action,
            resource,
            context,
            http,
            expect,
            because,
            rule,
        };
        (name, fields, steps)
    }
}

/// The keys only a step has: `repeat` and the clock moves.
#[derive(Debug)]
pub struct StepKeys {
    pub repeat: Option<Spanned<i64>>,
    pub advance: Option<Spanned<String>>,
    pub at: Option<Spanned<toml::Value>>,
}

impl Step {
    /// Split into the request part and the step's own keys.
    pub fn into_parts(self) -> (RequestFields, StepKeys) {
        let Step {
            principal,
            action,
            resource,
            context,
            http,
            expect,
            because,
            rule,
            repeat,
            advance,
            at,
        } = self;
        let fields = RequestFields {
            principal,
            action,
            resource,
            context,
            http,
            expect,
            because,
            rule,
        };
        (
            fields,
            StepKeys {
                repeat,
                advance,
                at,
            },
        )
    }
}

/// `expect = "allow"`, `expect = "deny"`, or a table.
#[derive(Debug)]
pub enum Expect {
    Allowed(bool),
    Table(ExpectTable),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectTable {
    pub allowed: Option<bool>,
    pub status: Option<u16>,
    pub location: Option<String>,
    pub because: Option<String>,
    pub rule: Option<String>,
    pub headers: Option<BTreeMap<String, String>>,
    pub absent: Option<Vec<String>>,
    pub removed: Option<Vec<String>>,
    /// The application's `Set-Cookie` value -> the value the middleware must send.
    pub set_cookie: Option<BTreeMap<String, String>>,
}

// By hand rather than `#[serde(untagged)]`: an untagged enum turns a typo inside the
// table into "data did not match any variant", losing the unknown-key message.
impl<'de> Deserialize<'de> for Expect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ExpectVisitor;
        impl<'de> Visitor<'de> for ExpectVisitor {
            type Value = Expect;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"allow\", \"deny\" or a table such as { status = 403 }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Expect, E> {
                match s {
                    "allow" => Ok(Expect::Allowed(true)),
                    "deny" => Ok(Expect::Allowed(false)),
                    other => Err(E::invalid_value(Unexpected::Str(other), &self)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Expect, A::Error> {
                ExpectTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Expect::Table)
            }
        }
        d.deserialize_any(ExpectVisitor)
    }
}

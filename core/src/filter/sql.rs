//! [`Residual`] -> a parameterized SQL `WHERE` fragment for PostgreSQL or SQLite.
//!
//! Values never enter the SQL text: every constant is a parameter (`?` for SQLite,
//! `$n` for PostgreSQL), and identifiers come from the [`ColumnMap`] only, quoted.
//! Every atom guards its column with `IS NOT NULL`, so that it is false (never SQL's
//! unknown) for a missing attribute, and `NOT` over it means what Warden means.

use super::residual::{CannotFilter, CmpOp, Cond, Kind, Residual, Scalar};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The SQL dialect of a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// `?` placeholders in order; booleans as 0/1 integers (SQLite >= 3.23 for TRUE).
    Sqlite,
    /// `$n` placeholders from the first index given; numbers cast to `float8`.
    Postgres,
}

/// What a column holds. A row's value of another kind than its column's is outside
/// the mapping's contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Text.
    String,
    /// A number (integer or floating point).
    Number,
    /// PostgreSQL `boolean`; SQLite 0/1.
    #[serde(alias = "bool")]
    Boolean,
    /// A list attribute stored as rows of another table (see [`ColumnSpec`]).
    List,
}

/// Where one resource attribute lives.
///
/// A scalar attribute is `table.column` (`table` defaults to the map's table; name a
/// joined table for attributes such as a tenant reached through a join; the query
/// must then join it, a `LEFT JOIN` making a missing row a missing attribute). A list
/// attribute (`type: list`) is the `column` of the rows of `table` whose `key` equals
/// the resource row's `parent` column; it is never missing, only empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// The column name.
    pub column: String,
    /// The table (or alias) holding it; `None`: the map's table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// What the column holds.
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// For lists: the kind of the elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<ColumnType>,
    /// For lists: the column of `table` referring to the resource row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// For lists: the resource row's column that `key` refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// Resource attributes -> columns. JSON:
/// `{"table": "posts", "columns": {"author": {"column": "author_id", "type": "string"}}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMap {
    /// The resource table (or its alias in the query).
    pub table: String,
    /// By attribute path: `"author"`, `"owner.id"`.
    pub columns: BTreeMap<String, ColumnSpec>,
}

impl ColumnMap {
    /// A map over the resource table `table`, with no columns yet.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            columns: BTreeMap::new(),
        }
    }

    /// A scalar attribute in a column of the resource table.
    pub fn column(mut self, attr: &str, column: &str, kind: ColumnType) -> Self {
        self.columns.insert(
            attr.into(),
            ColumnSpec {
                column: column.into(),
                table: None,
                kind,
                element: None,
                key: None,
                parent: None,
            },
        );
        self
    }

    /// A scalar attribute in a column of a joined table (or alias).
    pub fn joined(mut self, attr: &str, table: &str, column: &str, kind: ColumnType) -> Self {
        self = self.column(attr, column, kind);
        if let Some(c) = self.columns.get_mut(attr) {
            c.table = Some(table.into());
        }
        self
    }

    /// A list attribute: `column` of the rows of `table` whose `key` is the resource
    /// row's `parent`.
    pub fn list(
        mut self,
        attr: &str,
        table: &str,
        key: &str,
        parent: &str,
        column: &str,
        element: ColumnType,
    ) -> Self {
        self.columns.insert(
            attr.into(),
            ColumnSpec {
                column: column.into(),
                table: Some(table.into()),
                kind: ColumnType::List,
                element: Some(element),
                key: Some(key.into()),
                parent: Some(parent.into()),
            },
        );
        self
    }
}

/// A query parameter of a fragment, in placeholder order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SqlParam {
    /// A text value.
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean; bind it as 0/1 for SQLite.
    Bool(bool),
    /// A character count (prefix and suffix tests).
    Integer(i64),
}

/// A `WHERE` fragment and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SqlFilter {
    /// The fragment, with the dialect's placeholders (`$1` for PostgreSQL, `?` for SQLite).
    pub sql: String,
    /// The values of the placeholders, in order.
    pub params: Vec<SqlParam>,
}

impl Residual {
    /// The residual as a SQL boolean expression over the mapped columns. For
    /// PostgreSQL, placeholders start at `$first_param` (to follow a query's own
    /// parameters); SQLite's `?` ignore it. An attribute without a column is an error.
    pub fn to_sql(
        &self,
        map: &ColumnMap,
        dialect: Dialect,
        first_param: usize,
    ) -> Result<SqlFilter, CannotFilter> {
        let mut w = Writer {
            map,
            dialect,
            sql: String::new(),
            params: Vec::new(),
            first: first_param.max(1),
            aliases: 0,
        };
        match self {
            Residual::Always => w.sql.push_str("TRUE"),
            Residual::Never => w.sql.push_str("FALSE"),
            Residual::Conditional { condition } => w.cond(condition)?,
        }
        Ok(SqlFilter {
            sql: w.sql,
            params: w.params,
        })
    }
}

struct Writer<'m> {
    map: &'m ColumnMap,
    dialect: Dialect,
    sql: String,
    params: Vec<SqlParam>,
    first: usize,
    aliases: usize,
}

fn err(reason: String) -> CannotFilter {
    CannotFilter {
        rule: String::new(),
        reason,
    }
}

/// `"name"`, doubling quotes; names are configuration, but quoted all the same.
fn ident(name: &str) -> Result<String, CannotFilter> {
    if name.is_empty() || name.contains('\0') {
        return Err(err(format!(
            "bad SQL identifier {name:?} in the column map"
        )));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

fn kind_of(c: ColumnType) -> Kind {
    match c {
        ColumnType::String => Kind::String,
        ColumnType::Number => Kind::Number,
        ColumnType::Boolean => Kind::Bool,
        ColumnType::List => Kind::List,
    }
}

impl Writer<'_> {
    fn spec(&self, attr: &str) -> Result<&ColumnSpec, CannotFilter> {
        self.map.columns.get(attr).ok_or_else(|| {
            err(format!(
                "the column map has no column for `resource.{attr}`"
            ))
        })
    }

    fn column(&self, spec: &ColumnSpec) -> Result<String, CannotFilter> {
        let table = spec.table.as_deref().unwrap_or(&self.map.table);
        Ok(format!("{}.{}", ident(table)?, ident(&spec.column)?))
    }

    fn param(&mut self, p: SqlParam) -> String {
        let cast = match (&p, self.dialect) {
            (_, Dialect::Sqlite) => "",
            // Untyped text lets the column's type (text, varchar, uuid ...) decide.
            (SqlParam::Text(_), _) => "",
            (SqlParam::Number(_), _) => "::float8",
            (SqlParam::Bool(_), _) => "::boolean",
            (SqlParam::Integer(_), _) => "::integer",
        };
        self.params.push(p);
        match self.dialect {
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres => format!("${}{cast}", self.first + self.params.len() - 1),
        }
    }

    fn scalar(&mut self, s: &Scalar) -> String {
        self.param(match s {
            Scalar::String(v) => SqlParam::Text(v.clone()),
            Scalar::Number(n) => SqlParam::Number(*n),
            Scalar::Bool(b) => SqlParam::Bool(*b),
        })
    }

    fn list(&mut self, items: &[Cond], op: &str) -> Result<(), CannotFilter> {
        self.sql.push('(');
        for (i, c) in items.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(op);
            }
            self.cond(c)?;
        }
        self.sql.push(')');
        Ok(())
    }

    fn cond(&mut self, c: &Cond) -> Result<(), CannotFilter> {
        match c {
            Cond::And(cs) => self.list(cs, " AND "),
            Cond::Or(cs) => self.list(cs, " OR "),
            Cond::Not(c) => {
                self.sql.push_str("NOT ");
                // Atoms are parenthesized already; connectives too.
                self.cond(c)
            }
            Cond::Present { attr, kind } => {
                let spec = self.spec(attr)?.clone();
                let ok = kind.is_none_or(|k| k == kind_of(spec.kind));
                if !ok {
                    self.sql.push_str("FALSE");
                } else if spec.kind == ColumnType::List {
                    // A list kept as rows is never missing.
                    self.sql.push_str("TRUE");
                } else {
                    let col = self.column(&spec)?;
                    self.sql.push_str(&format!("({col} IS NOT NULL)"));
                }
                Ok(())
            }
            Cond::Cmp { attr, op, value } => {
                let spec = self.spec(attr)?.clone();
                if kind_of(spec.kind) != value.kind() {
                    self.sql.push_str("FALSE");
                    return Ok(());
                }
                let col = self.column(&spec)?;
                let op = match op {
                    CmpOp::Eq => "=",
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => ">=",
                };
                let p = self.scalar(value);
                self.sql
                    .push_str(&format!("({col} IS NOT NULL AND {col} {op} {p})"));
                Ok(())
            }
            Cond::In { attr, values } => {
                let spec = self.spec(attr)?.clone();
                let Some(first) = values.first() else {
                    self.sql.push_str("FALSE");
                    return Ok(());
                };
                if kind_of(spec.kind) != first.kind() {
                    self.sql.push_str("FALSE");
                    return Ok(());
                }
                let col = self.column(&spec)?;
                let ps: Vec<String> = values.iter().map(|v| self.scalar(v)).collect();
                self.sql.push_str(&format!(
                    "({col} IS NOT NULL AND {col} IN ({}))",
                    ps.join(", ")
                ));
                Ok(())
            }
            Cond::Contains { attr, value } => {
                let col = self.string_column(attr)?;
                let Some(col) = col else { return Ok(()) };
                let p = self.param(SqlParam::Text(value.clone()));
                let f = match self.dialect {
                    Dialect::Sqlite => format!("instr({col}, {p}) > 0"),
                    Dialect::Postgres => format!("strpos({col}, {p}) > 0"),
                };
                self.sql.push_str(&format!("({col} IS NOT NULL AND {f})"));
                Ok(())
            }
            Cond::StartsWith { attr, value } | Cond::EndsWith { attr, value } => {
                let col = self.string_column(attr)?;
                let Some(col) = col else { return Ok(()) };
                // Characters, as both databases count them in `substr`/`left`/`right`.
                let n = value.chars().count() as i64;
                let prefix = matches!(c, Cond::StartsWith { .. });
                let f = match (self.dialect, prefix) {
                    (Dialect::Sqlite, true) => {
                        let pn = self.param(SqlParam::Integer(n));
                        let pv = self.param(SqlParam::Text(value.clone()));
                        format!("substr({col}, 1, {pn}) = {pv}")
                    }
                    (Dialect::Sqlite, false) => {
                        let pn = self.param(SqlParam::Integer(-n));
                        let pv = self.param(SqlParam::Text(value.clone()));
                        format!("substr({col}, {pn}) = {pv}")
                    }
                    (Dialect::Postgres, true) => {
                        let pn = self.param(SqlParam::Integer(n));
                        let pv = self.param(SqlParam::Text(value.clone()));
                        format!("left({col}, {pn}) = {pv}")
                    }
                    (Dialect::Postgres, false) => {
                        let pn = self.param(SqlParam::Integer(n));
                        let pv = self.param(SqlParam::Text(value.clone()));
                        format!("right({col}, {pn}) = {pv}")
                    }
                };
                self.sql.push_str(&format!("({col} IS NOT NULL AND {f})"));
                Ok(())
            }
            Cond::Has { attr, value } => {
                let spec = self.spec(attr)?.clone();
                if spec.kind != ColumnType::List {
                    self.sql.push_str("FALSE");
                    return Ok(());
                }
                let (Some(table), Some(key), Some(parent), Some(element)) = (
                    spec.table.as_deref(),
                    spec.key.as_deref(),
                    spec.parent.as_deref(),
                    spec.element,
                ) else {
                    return Err(err(format!(
                        "the list column of `resource.{attr}` needs table, key, parent and element"
                    )));
                };
                if kind_of(element) != value.kind() {
                    self.sql.push_str("FALSE");
                    return Ok(());
                }
                self.aliases += 1;
                let alias = ident(&format!("warden_l{}", self.aliases))?;
                let p = self.scalar(value);
                self.sql.push_str(&format!(
                    "EXISTS (SELECT 1 FROM {} AS {alias} WHERE {alias}.{} = {}.{} AND {alias}.{} = {p})",
                    ident(table)?,
                    ident(key)?,
                    ident(&self.map.table)?,
                    ident(parent)?,
                    ident(&spec.column)?,
                ));
                Ok(())
            }
        }
    }

    /// The column of a string attribute; `None` (after writing FALSE) for another kind.
    fn string_column(&mut self, attr: &str) -> Result<Option<String>, CannotFilter> {
        let spec = self.spec(attr)?.clone();
        if spec.kind != ColumnType::String {
            self.sql.push_str("FALSE");
            return Ok(None);
        }
        self.column(&spec).map(Some)
    }
}

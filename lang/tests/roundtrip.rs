//! Formatter round-trip properties: generated trees and the example files print to text
//! that parses back to the same tree, formatting is idempotent, and comments survive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use proptest::sample::Index;
use warden_lang::ast::*;
use warden_lang::{format_policy, format_source, parse, stripped, Limits};

/// Words that cannot be generated names: the grammar's `reserved` rule, every keyword,
/// the type names, cors keys, and `len` (which `.len` would swallow).
#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "principal", "resource", "context", "input", "request", "header", "secret", "env", "ip",
    "true", "false", "not", "and", "or", "in", "contains", "starts_with", "ends_with",
    "matches", "is", "if", "unless", "because", "missing", "else", "strict", "policy", "role",
    "grant", "set", "on", "limit", "per", "by", "route", "require", "redirect", "drop",
    "headers", "cors", "startup", "script", "allow", "deny", "skip", "public", "auth", "len",
    "string", "number", "bool", "origins", "methods", "expose", "credentials", "max_age",
    "now", "then", "map", "is_int", "header_safe",
];

const Z: Span = Span::new(0, 0);

fn id(name: impl Into<String>) -> Ident {
    Ident {
        name: name.into(),
        span: Z,
    }
}

fn lit(value: String) -> StrLit {
    StrLit { value, span: Z }
}

fn e(kind: ExprKind) -> Expr {
    Expr { kind, span: Z }
}

fn name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,7}".prop_filter("keyword", |n| !KEYWORDS.contains(&n.as_str()))
}

fn ident() -> BoxedStrategy<Ident> {
    name().prop_map(id).boxed()
}

fn header_name() -> impl Strategy<Value = Ident> {
    "[A-Za-z0-9][A-Za-z0-9_-]{0,12}".prop_map(id)
}

fn method() -> impl Strategy<Value = Ident> {
    prop_oneof![
        prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE"]).prop_map(id),
        "[A-Z]{1,7}".prop_map(id),
    ]
}

/// Strings that need every kind of escape, and arbitrary Unicode.
fn string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z /:.{}=?-]{0,12}",
        "[a-z\"\\\\\n\r\t\u{0}\u{1b}\u{7f}\u{85}é#/]{0,10}",
        any::<String>(),
    ]
}

/// Regex bodies as the parser stores them: no newline, and `\` always followed by a
/// character other than `/` (a written `\/` is stored as `/`).
fn regex_value() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        "[a-zA-Z0-9^$.*+?()\\[\\]{}|# -]",
        Just("/".to_string()),
        "[dws.\\\\\\[\\]()*]".prop_map(|c| format!("\\{c}")),
        any::<char>()
            .prop_filter("no newline, slash or backslash", |c| !matches!(
                c,
                '\n' | '/' | '\\'
            ))
            .prop_map(String::from),
    ];
    prop::collection::vec(part, 0..8).prop_map(|v| v.concat())
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![(-1000i32..1000).prop_map(f64::from), -1.0e6..1.0e6f64]
}

fn size_unit() -> impl Strategy<Value = SizeUnit> {
    prop::sample::select(vec![SizeUnit::B, SizeUnit::KB, SizeUnit::MB, SizeUnit::GB])
}

fn duration_unit() -> impl Strategy<Value = DurationUnit> {
    prop::sample::select(vec![
        DurationUnit::Ms,
        DurationUnit::S,
        DurationUnit::M,
        DurationUnit::H,
        DurationUnit::D,
    ])
}

fn duration() -> impl Strategy<Value = Duration> {
    (0u64..100_000, duration_unit()).prop_map(|(value, unit)| Duration {
        value,
        unit,
        span: Z,
    })
}

fn root() -> impl Strategy<Value = Root> {
    prop::sample::select(vec![
        Root::Principal,
        Root::Resource,
        Root::Context,
        Root::Input,
        Root::Request,
    ])
}

fn binop() -> impl Strategy<Value = BinOp> {
    prop::sample::select(vec![
        BinOp::Or,
        BinOp::And,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::In,
        BinOp::SubsetOf,
        BinOp::Contains,
        BinOp::StartsWith,
        BinOp::EndsWith,
        BinOp::Coalesce,
        BinOp::Concat,
        BinOp::Sub,
    ])
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        string_value().prop_map(ExprKind::Str),
        number().prop_map(ExprKind::Num),
        any::<bool>().prop_map(ExprKind::Bool),
        (any::<u64>(), size_unit()).prop_map(|(value, unit)| ExprKind::Size { value, unit }),
        (any::<u64>(), duration_unit())
            .prop_map(|(value, unit)| ExprKind::Duration { value, unit }),
        (root(), prop::collection::vec(ident(), 0..3))
            .prop_map(|(root, attrs)| ExprKind::Path(Path { root, attrs })),
        header_name().prop_map(ExprKind::Header),
        header_name().prop_map(ExprKind::Cookie),
        Just(ExprKind::Ip),
        Just(ExprKind::Env),
        ("[A-Z_][A-Z0-9_]{0,8}", any::<bool>()).prop_map(|(n, optional)| ExprKind::Secret {
            name: id(n),
            optional
        }),
        "[A-Z_][A-Z0-9_]{0,8}".prop_map(|n| ExprKind::Config(id(n))),
        ident().prop_map(ExprKind::RoleName),
        Just(ExprKind::Now),
    ]
    .prop_map(e)
}

/// Every operator and literal kind, nested a few levels.
fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(ExprKind::List),
            (ident(), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(func, args)| ExprKind::Call { func, args }),
            inner.clone().prop_map(|x| ExprKind::Not(Box::new(x))),
            (binop(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| ExprKind::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            }),
            (inner.clone(), regex_value()).prop_map(|(x, re)| ExprKind::Matches {
                expr: Box::new(x),
                regex: lit(re),
            }),
            (inner.clone(), ident()).prop_map(|(x, role)| ExprKind::Is {
                expr: Box::new(x),
                role,
            }),
            inner.clone().prop_map(|x| ExprKind::Len(Box::new(x))),
            inner.clone().prop_map(|x| ExprKind::IsInt(Box::new(x))),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| ExprKind::IfElse {
                cond: Box::new(c),
                then: Box::new(a),
                otherwise: Box::new(b),
            }),
            (inner.clone(), inner.clone()).prop_map(|(t, m)| ExprKind::HeaderSafe {
                text: Box::new(t),
                max: Box::new(m),
            }),
            (inner.clone(), ident(), inner).prop_map(|(x, role, org)| ExprKind::IsIn {
                expr: Box::new(x),
                role,
                org: Box::new(org),
            }),
        ]
        .prop_map(e)
    })
}

fn action() -> impl Strategy<Value = ActionPat> {
    let word = "[a-z][a-z0-9_.-]{0,6}";
    prop_oneof![
        Just(ActionKind::Any),
        word.prop_map(ActionKind::Namespace),
        (word, word).prop_map(|(ns, v)| ActionKind::Exact(format!("{ns}:{v}"))),
        word.prop_filter("keyword", |w| !KEYWORDS.contains(&w.as_str()))
            .prop_map(ActionKind::Exact),
    ]
    .prop_map(|kind| ActionPat { kind, span: Z })
}

/// Roles whose parents are always declared earlier: inheritance is a DAG.
fn roles() -> impl Strategy<Value = Vec<Item>> {
    prop::collection::vec((ident(), prop::collection::vec(any::<Index>(), 0..3)), 1..5).prop_map(
        |decls| {
            let names: Vec<Ident> = decls.iter().map(|(n, _)| n.clone()).collect();
            decls
                .into_iter()
                .enumerate()
                .map(|(i, (name, picks))| {
                    let parents = if i == 0 {
                        Vec::new()
                    } else {
                        picks.iter().map(|p| names[p.index(i)].clone()).collect()
                    };
                    Item::Role(RoleDecl {
                        name,
                        parents,
                        span: Z,
                    })
                })
                .collect()
        },
    )
}

fn ty() -> impl Strategy<Value = Type> {
    let base = prop::sample::select(vec![Type::String, Type::Number, Type::Bool, Type::Role]);
    base.prop_recursive(2, 4, 1, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Type::Set(Box::new(t))),
            inner.prop_map(|t| Type::Map(Box::new(t))),
        ]
    })
}

fn shape() -> impl Strategy<Value = Item> {
    let kind = prop_oneof![
        Just(ShapeKind::Principal),
        ident().prop_map(ShapeKind::Resource),
        Just(ShapeKind::Context),
        Just(ShapeKind::Input),
    ];
    let attr = (ident(), ty(), any::<bool>()).prop_map(|(name, ty, optional)| AttrDecl {
        name,
        ty,
        optional,
        span: Z,
    });
    (kind, prop::collection::vec(attr, 0..8)).prop_map(|(kind, attrs)| {
        Item::Shape(ShapeDecl {
            kind,
            attrs,
            span: Z,
        })
    })
}

fn rule() -> impl Strategy<Value = Item> {
    let effect = prop::sample::select(vec![Effect::Allow, Effect::Deny]);
    let cond_kind = prop::sample::select(vec![CondKind::If, CondKind::Unless]);
    let missing = prop::option::of(prop::sample::select(vec![OnMissing::Skip, OnMissing::Deny]));
    (
        effect,
        prop::collection::vec(action(), 1..4),
        prop::collection::vec(ident(), 0..3),
        prop::option::of((cond_kind, expr())),
        prop::option::of(string_value()),
        missing,
        any::<bool>(),
    )
        .prop_map(|(effect, actions, on, cond, because, missing, report)| {
            Item::Rule(Rule {
                effect,
                actions,
                on,
                cond: cond.map(|(kind, expr)| Condition { kind, expr }),
                because: because.map(lit),
                missing,
                report_only: report.then_some(Z),
                span: Z,
            })
        })
}

fn limit() -> impl Strategy<Value = Item> {
    (
        ident(),
        any::<u64>(),
        duration(),
        expr(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(name, count, per, key, strict, report)| {
            Item::Limit(LimitDecl {
                name,
                count,
                per,
                key,
                strict,
                report_only: report.then_some(Z),
                span: Z,
            })
        })
}

fn otherwise() -> impl Strategy<Value = Otherwise> {
    prop_oneof![
        (100u16..600).prop_map(|s| Otherwise::Status(s, Z)),
        (prop::option::of(100u16..600), string_value()).prop_map(|(status, loc)| {
            Otherwise::Redirect {
                status,
                location: lit(loc),
                span: Z,
            }
        }),
    ]
}

fn route_stmt() -> impl Strategy<Value = RouteStmt> {
    let kind = prop_oneof![
        Just(ReqKind::Auth),
        prop::collection::vec(ident(), 1..3).prop_map(ReqKind::Role),
        expr().prop_map(ReqKind::Expr),
        // Conditions that start with the words of the other two forms.
        (prop::sample::select(vec!["auth", "role"]), binop(), expr()).prop_map(|(w, op, rhs)| {
            ReqKind::Expr(e(ExprKind::Binary {
                op,
                lhs: Box::new(e(ExprKind::RoleName(id(w)))),
                rhs: Box::new(rhs),
            }))
        }),
        (
            ident(),
            header_name(),
            ident(),
            any::<bool>(),
            prop::option::of(duration())
        )
            .prop_map(|(scheme, header, name, optional, tolerance)| {
                ReqKind::Signature(SignatureReq {
                    scheme,
                    header,
                    secret: e(ExprKind::Secret { name, optional }),
                    tolerance,
                })
            }),
    ];
    prop_oneof![
        Just(RouteStmt::Public(Z)),
        (kind, prop::option::of(otherwise()), any::<bool>()).prop_map(
            |(kind, otherwise, report)| {
                RouteStmt::Require(Requirement {
                    kind,
                    otherwise,
                    report_only: report.then_some(Z),
                    span: Z,
                })
            }
        ),
        prop::collection::vec(ident(), 1..3).prop_map(|n| RouteStmt::Limit(n, Z)),
        prop::collection::vec(ident(), 1..3).prop_map(|n| RouteStmt::LimitOnly(n, Z)),
        (header_name(), string_value()).prop_map(|(name, v)| RouteStmt::HeaderSet {
            name,
            value: lit(v),
            span: Z,
        }),
        header_name().prop_map(|name| RouteStmt::HeaderDrop { name, span: Z }),
        // A lone string literal is the literal form above.
        (
            header_name(),
            expr().prop_filter("not a literal", |v| !matches!(v.kind, ExprKind::Str(_)))
        )
            .prop_map(|(name, value)| RouteStmt::HeaderSetExpr {
                name,
                value,
                span: Z
            }),
    ]
}

fn route() -> impl Strategy<Value = Item> {
    let segment = prop_oneof![
        "[a-z0-9._~-]{1,8}",
        "[a-z]{1,6}".prop_map(|p| format!(":{p}")),
        Just("*".to_string()),
        Just("**".to_string()),
    ];
    let pattern = prop::collection::vec(segment, 0..4).prop_map(|segs| RoutePattern {
        text: format!("/{}", segs.join("/")),
        span: Z,
    });
    (
        prop::collection::vec(method(), 0..3),
        prop::collection::vec(pattern, 1..3),
        prop::collection::vec(route_stmt(), 0..5),
    )
        .prop_map(|(methods, patterns, body)| {
            Item::Route(RouteDecl {
                methods,
                patterns,
                body,
                span: Z,
            })
        })
}

fn headers() -> impl Strategy<Value = Item> {
    let entry =
        (header_name(), string_value(), prop::option::of(expr())).prop_map(|(name, v, cond)| {
            HeaderEntry {
                name,
                value: lit(v),
                cond,
                span: Z,
            }
        });
    prop::collection::vec(entry, 0..4)
        .prop_map(|entries| Item::Headers(HeadersDecl { entries, span: Z }))
}

fn cors() -> impl Strategy<Value = Item> {
    let names = || prop::collection::vec(header_name(), 1..3);
    let value = prop_oneof![
        prop::collection::vec(string_value().prop_map(lit), 1..3).prop_map(CorsValue::Origins),
        prop::collection::vec(method(), 1..3).prop_map(CorsValue::Methods),
        names().prop_map(CorsValue::Headers),
        names().prop_map(CorsValue::Expose),
        any::<bool>().prop_map(CorsValue::Credentials),
        duration().prop_map(CorsValue::MaxAge),
        (
            "[A-Z_][A-Z0-9_]{0,8}",
            string_value(),
            prop::collection::vec(string_value().prop_map(lit), 0..3)
        )
            .prop_map(|(n, sep, fallback)| CorsValue::OriginsFrom {
                setting: id(n),
                separator: lit(sep),
                fallback,
            }),
    ];
    let entry = (value, prop::option::of(expr())).prop_map(|(value, cond)| CorsEntry {
        value,
        cond,
        span: Z,
    });
    prop::collection::vec(entry, 0..5).prop_map(|entries| Item::Cors(CorsDecl { entries, span: Z }))
}

fn cookies() -> impl Strategy<Value = Item> {
    let attr = prop_oneof![
        Just(CookieAttrKind::HttpOnly),
        Just(CookieAttrKind::Secure),
        prop::sample::select(vec![SameSite::Strict, SameSite::Lax, SameSite::None])
            .prop_map(CookieAttrKind::SameSite),
        string_value().prop_map(|p| CookieAttrKind::Path(lit(p))),
        duration().prop_map(CookieAttrKind::MaxAge),
    ]
    .prop_map(|kind| CookieAttr { kind, span: Z });
    let name = "[A-Za-z0-9_.-]{1,12}".prop_map(id);
    let rule = (name, prop::collection::vec(attr, 1..4)).prop_map(|(name, attrs)| CookieRule {
        name,
        attrs,
        span: Z,
    });
    prop::collection::vec(rule, 0..3)
        .prop_map(|rules| Item::Cookies(CookiesDecl { rules, span: Z }))
}

fn startup() -> impl Strategy<Value = Item> {
    let check = (
        expr(),
        prop::option::of(expr()),
        prop::option::of(string_value()),
    )
        .prop_map(|(expr, cond, because)| StartupCheck {
            expr,
            cond,
            because: because.map(lit),
            span: Z,
        });
    prop::collection::vec(check, 0..3)
        .prop_map(|checks| Item::Startup(StartupDecl { checks, span: Z }))
}

fn proxies() -> impl Strategy<Value = Item> {
    let range = prop_oneof![
        Just("10.0.0.0/8".to_string()),
        Just("fd00::/8".to_string()),
        Just("203.0.113.7".to_string()),
        string_value(),
    ];
    let value = prop_oneof![
        prop::collection::vec(range.prop_map(lit), 1..4).prop_map(ProxiesValue::Trusted),
        (0u64..100).prop_map(|value| ProxiesValue::Hops { value, span: Z }),
        prop::sample::select(vec!["X-Forwarded-For", "Forwarded"])
            .prop_map(|h| ProxiesValue::Header(id(h))),
    ];
    let entry = (value, prop::option::of(expr())).prop_map(|(value, cond)| ProxiesEntry {
        value,
        cond,
        span: Z,
    });
    prop::collection::vec(entry, 0..4)
        .prop_map(|entries| Item::Proxies(ProxiesDecl { entries, span: Z }))
}

fn script() -> impl Strategy<Value = Item> {
    prop::sample::select(vec![
        "",
        " fn double(x) { x * 2 } ",
        "\n  fn brace() { \"}\" } // a } in a comment\n  /* { */\n",
    ])
    .prop_map(|s| {
        Item::Script(ScriptDecl {
            source: s.to_string(),
            source_span: Z,
            span: Z,
        })
    })
}

fn item() -> impl Strategy<Value = Vec<Item>> {
    let grant = (
        prop::collection::vec(ident(), 1..3),
        prop::collection::vec(action(), 1..4),
    )
        .prop_map(|(roles, actions)| {
            Item::Grant(GrantDecl {
                roles,
                actions,
                span: Z,
            })
        });
    prop_oneof![
        roles(),
        grant.prop_map(|g| vec![g]),
        shape().prop_map(|s| vec![s]),
        rule().prop_map(|r| vec![r]),
        limit().prop_map(|l| vec![l]),
        route().prop_map(|r| vec![r]),
        headers().prop_map(|h| vec![h]),
        cors().prop_map(|c| vec![c]),
        startup().prop_map(|s| vec![s]),
        script().prop_map(|s| vec![s]),
        prop::collection::vec(string_value().prop_map(lit), 1..3)
            .prop_map(|hosts| vec![Item::Hosts(HostsDecl { hosts, span: Z })]),
        cookies().prop_map(|c| vec![c]),
        proxies().prop_map(|p| vec![p]),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (ident(), any::<bool>(), prop::collection::vec(item(), 0..8)).prop_map(
        |(name, report, items)| Policy {
            name,
            report_only: report.then_some(Z),
            items: items.into_iter().flatten().collect(),
            comments: Vec::new(),
        },
    )
}

fn reparse(text: &str) -> Policy {
    match parse(text, &Limits::default()) {
        Ok(p) => p,
        Err(d) => panic!("formatted text does not parse: {d:?}\n---\n{text}"),
    }
}

/// Put `# cN` comments at line ends and on lines of their own (at most one per line);
/// returns the text and the comment texts in source order.
fn with_comments(text: &str, picks: &[(Index, bool)]) -> (String, Vec<String>) {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut marks: Vec<(usize, bool)> = picks
        .iter()
        .map(|(i, own)| (i.index(lines.len()), *own))
        .collect();
    marks.sort();
    marks.dedup_by_key(|m| m.0);
    let added: Vec<String> = (0..marks.len())
        .map(|n| format!(" c{n} \"x\" {{"))
        .collect();
    for (&(at, own), c) in marks.iter().zip(&added).rev() {
        if own {
            lines.insert(at, format!("#{c}"));
        } else {
            lines[at].push_str(&format!(" #{c}"));
        }
    }
    (lines.join("\n"), added)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// `parse(format_policy(p)) == p` (spans aside) and formatting is idempotent.
    #[test]
    fn generated_trees_round_trip(p in policy()) {
        let text = format_policy(&p);
        let back = reparse(&text);
        prop_assert_eq!(stripped(&back), stripped(&p), "text:\n{}", text);
        prop_assert_eq!(&format_policy(&back), &text);
        let again = format_source(&text, &Limits::default()).unwrap();
        prop_assert_eq!(&again, &text);
    }

    /// Comments anywhere at line ends or on their own lines survive, in order, and the
    /// result is a fixed point.
    #[test]
    fn comments_survive(p in policy(), picks in prop::collection::vec((any::<Index>(), any::<bool>()), 1..8)) {
        let mut p = p;
        p.items.retain(|i| !matches!(i, Item::Script(_)));
        let (text, added) = with_comments(&format_policy(&p), &picks);
        let once = format_source(&text, &Limits::default()).unwrap();
        let back = reparse(&once);
        prop_assert_eq!(stripped(&back), stripped(&p));
        let texts: Vec<String> = back.comments.iter().map(|c| c.text.clone()).collect();
        prop_assert_eq!(texts, added, "input:\n{}\noutput:\n{}", text, once);
        let twice = format_source(&once, &Limits::default()).unwrap();
        prop_assert_eq!(twice, once);
    }
}

#[test]
fn example_files_round_trip() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("warden") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(original) = parse(&text, &Limits::default()) else {
            continue;
        };
        let once = format_source(&text, &Limits::default()).unwrap();
        let back = reparse(&once);
        assert_eq!(stripped(&back), stripped(&original), "{}", path.display());
        assert_eq!(
            back.comments.len(),
            original.comments.len(),
            "{}",
            path.display()
        );
        assert_eq!(format_source(&once, &Limits::default()).unwrap(), once);
        assert_eq!(
            format_policy(&back),
            format_policy(&reparse(&format_policy(&back)))
        );
        checked += 1;
    }
    assert!(checked > 0, "no example parsed in {}", dir.display());
}

/// The tour is written in canonical form already.
/// The examples policy authors start from, and the seed apps' policies, are written the
/// way `warden fmt` writes them.
#[test]
fn examples_and_policies_are_canonical() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seen = 0;
    for dir in ["examples", "policies"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("warden") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let once = format_source(&text, &Limits::default()).unwrap();
            assert!(once == text, "`warden fmt {}` changes it", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 19, "only {seen} policies found");
}

fn fmt(src: &str) -> String {
    format_source(src, &Limits::default()).unwrap()
}

#[test]
fn comments_keep_their_places() {
    let src = "# head\n\npolicy p # named\n# roles\nrole a # first\n\n\n\nrole b\n# grants\ngrant a: x\nroute /a { # open\n  # before\n  public # why\n\n  limit api\n  # end\n} # after\n# eof\n";
    let want = "# head\n\npolicy p # named\n\n# roles\nrole a # first\n\nrole b\n\n# grants\ngrant a: x\n\nroute /a { # open\n  # before\n  public # why\n\n  limit api\n  # end\n} # after\n# eof\n";
    assert_eq!(fmt(src), want);
}

#[test]
fn comments_inside_a_rule_move_above_it() {
    let src = "policy p\nallow read # one\n  if a # two\n  because \"x\"\n";
    assert_eq!(
        fmt(src),
        "policy p\n\n# one\n# two\nallow read if a because \"x\"\n"
    );
}

#[test]
fn minimal_parentheses() {
    let cases = [
        ("(a or b) and c", "(a or b) and c"),
        ("a or (b and c)", "a or b and c"),
        ("(a == b) == c", "a == b == c"),
        ("a == (b == c)", "a == (b == c)"),
        ("not (a == b)", "not a == b"),
        ("(not a) == b", "(not a) == b"),
        ("not (a and b)", "not (a and b)"),
        ("(a + b).len", "(a + b).len"),
        ("(a matches /x\\/y/) == b", "a matches /x\\/y/ == b"),
        ("(x ?? y) + z", "(x ?? y) + z"),
        ("\"q\\\"\\\\\\n\\t\\u{1}\"", "\"q\\\"\\\\\\n\\t\\u{1}\""),
    ];
    for (src, want) in cases {
        let out = fmt(&format!("policy p\nallow r if {src}\n"));
        assert_eq!(out, format!("policy p\n\nallow r if {want}\n"), "{src}");
    }
}

#[test]
fn long_startup_checks_break_before_clauses_like_rules() {
    let src = "policy p\nstartup {\n  require secret(AUTH_SECRET).len >= 32 if env == \"production\" because \"AUTH_SECRET must be at least 32 characters\"\n  require secret(B) != \"x\" because \"short\"\n}\n";
    let want = "policy p\n\nstartup {\n  require secret(AUTH_SECRET).len >= 32\n    if env == \"production\"\n    because \"AUTH_SECRET must be at least 32 characters\"\n  require secret(B) != \"x\" because \"short\"\n}\n";
    assert_eq!(fmt(src), want);
    assert_eq!(fmt(want), want);
}

#[test]
fn long_rules_break_before_clauses() {
    let src = "policy p\ndeny posts:write on post if resource.author != principal.id and not principal is admin because \"only authors\"\n";
    let want = "policy p\n\ndeny posts:write on post\n  if resource.author != principal.id and not principal is admin\n  because \"only authors\"\n";
    assert_eq!(fmt(src), want);
}

//! Lints about suppression comments themselves (applied in `crate::suppress`).

use crate::registry::declare_lint;

declare_lint! {
    /// A `# lint:` comment that cannot be honoured: it is not `allow(ID, ...) REASON`,
    /// names a lint that does not exist, or gives no reason.
    ///
    /// A suppression is a reviewed decision that a finding is acceptable here; the
    /// reason is what the next reviewer reads, so it is required. Write
    /// `# lint: allow(hsts-short) the CDN adds HSTS with a two-year max-age`.
    pub INVALID_SUPPRESSION, "invalid-suppression", Warning,
    "a `# lint:` comment that is malformed, names an unknown lint or gives no reason"
}

declare_lint! {
    /// A suppression that suppresses nothing: the lint it names reports nothing on the
    /// line it covers.
    ///
    /// Usually the problem was fixed and the comment stayed, or the comment sits above
    /// the wrong declaration. A comment on a line of its own covers the next line with
    /// code; a comment after code covers its own line. Remove stale suppressions so
    /// that they cannot hide a later regression.
    pub UNUSED_SUPPRESSION, "unused-suppression", Warning,
    "a suppression comment that suppresses nothing"
}

#!/usr/bin/env bash
# Builds the seed corpus fuzz/seeds/ from examples/*.warden: each whole file, and each
# top-level item alone under a `policy seed` header (small inputs mutate better), plus the
# hand-written seeds-extra/*.warden: constructs and mistakes the examples do not show
# (`lower(...)` in every position, `proxies` blocks, bad CIDRs).
set -euo pipefail
cd "$(dirname "$0")"
rm -rf seeds && mkdir -p seeds
for f in ../examples/*.warden; do
  base=$(basename "$f" .warden)
  cp "$f" "seeds/$base.warden"
  awk -v out="seeds/$base" '
    /^(role|grant|principal|resource|context|input|allow|deny|limit|route|headers|cors|startup|script|auth|hosts|cookies|proxies)([^A-Za-z0-9_]|$)/ {
      n++; file = sprintf("%s-item%02d.warden", out, n); print "policy seed\n" > file
    }
    n && !/^#/ { print >> file }
  ' "$f"
done
cp seeds-extra/*.warden seeds/
ls seeds | wc -l

#!/usr/bin/env bash
# The packages as a user gets them: `cargo publish --dry-run` of every public crate; the
# wheel (abi3, manylinux, auditwheel-clean, stripped, under 10 MB) and the npm tarballs,
# installed into fresh projects OUTSIDE the repository; then every command of the
# README's "Getting started" run as written there (scripts/packages/readme_run.py), each
# section in its own directory: the CLI installed by `cargo install --path cli`, a
# Starlette app under uvicorn and an Express app under node answering 401/403/429 from
# the policy over real sockets, a Rust program depending on `warden-policy = "0.1"`.
#
# Reuses what scripts/test-python.sh and scripts/test-node.sh built (the wheel, the
# addon): run after them, the builds here find cargo's work done. Since nothing is
# published yet, the README's install commands are pointed at those builds without
# changing a word of them: pip through PIP_FIND_LINKS, npm through a local registry that
# serves the two warden-policy tarballs and forwards the rest to the npm registry, cargo
# through `[patch.crates-io]` in the work directory's .cargo/config.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TARGET=$CARGO_TARGET_DIR
VENV=${WARDEN_PY_VENV:-$TARGET/py-venv}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/warden-packages.XXXXXX")
case "$WORK/" in "$ROOT"/*)
  echo "test-packages: the work directory must be outside the repository" >&2
  exit 1
  ;;
esac
registry_pid=""
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v curl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl
  else
    echo "test-packages: curl is needed (the README's examples use it)" >&2
    exit 1
  fi
fi

echo "== cargo publish --dry-run (lang, core, cli: packaged and built as crates.io would)"
# --allow-dirty only so that a working copy with edits can run this too; CI's is clean.
cargo publish --dry-run --workspace --allow-dirty --quiet

echo "== wheel"
if [ ! -x "$VENV/bin/maturin" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -r bindings/python/requirements-dev.txt
fi
WHEEL=$(bash scripts/build-wheel.sh "$VENV/bin/maturin")
NAME=$(basename "$WHEEL")
SIZE=$(stat -c %s "$WHEEL")
echo "$NAME: $SIZE bytes"
case "$NAME" in
  *-cp310-abi3-manylinux_2_28_x86_64*.whl) ;;
  *) echo "test-packages: $NAME is not an abi3 manylinux_2_28 wheel" >&2; exit 1 ;;
esac
if [ "$SIZE" -ge $((10 * 1024 * 1024)) ]; then
  echo "test-packages: the wheel is $SIZE bytes, not under 10 MB" >&2
  exit 1
fi
"$VENV/bin/auditwheel" show "$WHEEL" | tee "$WORK/auditwheel.txt"
# (auditwheel wraps its sentences: compared with the line breaks made spaces)
tr -s '\n ' '  ' < "$WORK/auditwheel.txt" | grep -q 'consistent with the following platform tag: "manylinux_2_28_x86_64"' || {
  echo "test-packages: auditwheel does not find the wheel manylinux_2_28" >&2
  exit 1
}
# Stripped: neither a symbol table nor debug info in the shipped module.
"$VENV/bin/python" - "$WHEEL" <<'EOF'
import sys, zipfile
from elftools.elf.elffile import ELFFile  # auditwheel's dependency
import io
with zipfile.ZipFile(sys.argv[1]) as z:
    mods = [n for n in z.namelist() if n.endswith(".so")]
    assert mods, "no native module in the wheel"
    for n in mods:
        elf = ELFFile(io.BytesIO(z.read(n)))
        extra = [s.name for s in elf.iter_sections() if s.name == ".symtab" or s.name.startswith(".debug")]
        assert not extra, f"{n} is not stripped: {extra}"
        print(f"{n}: stripped")
EOF
mkdir -p "$WORK/wheelhouse"
cp "$WHEEL" "$WORK/wheelhouse/"

echo "== sdist (the Rust crates it builds from are inside)"
(cd bindings/python && "$VENV/bin/maturin" sdist --out "$WORK/sdist" >/dev/null)
SDIST=$(ls "$WORK"/sdist/warden_policy-*.tar.gz)
tar -tzf "$SDIST" > "$WORK/sdist.txt"
for f in pyproject.toml core/Cargo.toml lang/Cargo.toml bindings/host/Cargo.toml bindings/python/Cargo.toml \
  bindings/python/python/warden/__init__.py lang/src/grammar.pest; do
  grep -q "/$f\$" "$WORK/sdist.txt" || { echo "test-packages: $f is missing from $(basename "$SDIST")" >&2; exit 1; }
done
echo "$(basename "$SDIST"): $(wc -l < "$WORK/sdist.txt") files"

echo "== npm packages"
(cd bindings/node && npm ci --no-audit --no-fund --silent --ignore-scripts && npm run -s build)
ADDON=$(node -e "console.log(require('./bindings/node/binding').platformTriple())")
# Every source file of the package is in it (package.json `files`): all but the tests,
# benches, Rust sources and the platform packages' folders.
(cd bindings/node && npm pack --dry-run --json 2>/dev/null) | node -e "
  const packed = new Set(JSON.parse(require('node:fs').readFileSync(0, 'utf8'))[0].files.map((f) => f.path));
  const want = require('node:child_process').execFileSync('git', ['ls-files'], { cwd: 'bindings/node', encoding: 'utf8' })
    .split('\n').filter((f) => f && !/^(test|bench|src|npm)\//.test(f) && !/^(Cargo\.toml|build\.rs|package-lock\.json)$/.test(f));
  const missing = want.filter((f) => !packed.has(f));
  if (missing.length) { console.error('npm pack leaves out ' + missing.join(', ') + ': list them in package.json files'); process.exit(1); }
  if (!packed.has('warden.$ADDON.node')) { console.error('npm pack leaves out the addon warden.$ADDON.node'); process.exit(1); }
  console.log('npm pack: ' + [...packed].join(' '));
"
mkdir -p "$WORK/npm"
# 1. `npm pack` of the package as built: the addon inside, installable on its own.
(cd bindings/node && npm pack --silent --pack-destination "$WORK/npm" >/dev/null)
mv "$WORK/npm/warden-policy-0.1.0.tgz" "$WORK/npm/local-build.tgz"
# 2. The published layout (napi artifacts + napi prepublish): the addon in its platform
#    package, the main package without it, listing the platform packages.
cp -r "bindings/node/npm/$ADDON" "$WORK/npm/platform"
cp "bindings/node/warden.$ADDON.node" "$WORK/npm/platform/"
(cd "$WORK/npm/platform" && npm pack --silent --pack-destination "$WORK/npm" >/dev/null)
mkdir "$WORK/npm/main"
(cd bindings/node && cp package.json ./*.js ./*.d.ts "$WORK/npm/main/")
(cd "$WORK/npm/main" && node -e "
  const fs = require('node:fs');
  const p = JSON.parse(fs.readFileSync('package.json', 'utf8'));
  p.optionalDependencies = Object.fromEntries(
    fs.readdirSync('$ROOT/bindings/node/npm').map((t) => ['warden-policy-' + t, p.version]));
  fs.writeFileSync('package.json', JSON.stringify(p, null, 2));
" && npm pack --silent --pack-destination "$WORK/npm" >/dev/null)
ls -l "$WORK"/npm/*.tgz

# The tarball of `npm pack`, and `npm install ./bindings/node`, each in a clean project.
check_project() { # DIR: the engine loads there and answers
  (cd "$1" && node -e "
    const { Engine } = require('warden-policy');
    const e = Engine.fromFile('$ROOT/examples/06-routes.warden');
    const d = e.checkHttp({ method: 'DELETE', path: '/api/admin/users/7', principal: { id: 's1', roles: ['staff'] } });
    if (d.status !== 403) throw new Error('expected 403, got ' + d.status);
    console.log('$1: warden-policy loads and answers 403');
  ")
}
mkdir "$WORK/from-tarball" "$WORK/from-folder"
(cd "$WORK/from-tarball" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "$WORK/npm/local-build.tgz")
check_project "$WORK/from-tarball"
(cd "$WORK/from-folder" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "$ROOT/bindings/node")
check_project "$WORK/from-folder"

echo "== README getting started (in $WORK/readme)"
node scripts/packages/registry.js "$(npm config get registry)" "$WORK"/npm/warden-policy-0.1.0.tgz \
  "$WORK"/npm/warden-policy-"$ADDON"-0.1.0.tgz > "$WORK/registry.url" &
registry_pid=$!
for _ in $(seq 100); do [ -s "$WORK/registry.url" ] && break; sleep 0.1; done
mkdir -p "$WORK/readme/.cargo"
cat > "$WORK/readme/.cargo/config.toml" <<EOF
[patch.crates-io]
warden-policy = { path = "$ROOT/core" }
warden-policy-lang = { path = "$ROOT/lang" }
EOF
env \
  PIP_FIND_LINKS="$WORK/wheelhouse" PIP_DISABLE_PIP_VERSION_CHECK=1 \
  npm_config_registry="$(cat "$WORK/registry.url")" npm_config_cache="$WORK/npm-cache" \
  npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false \
  CARGO_INSTALL_ROOT="$WORK/cargo-root" PATH="$WORK/cargo-root/bin:$PATH" \
  python3 scripts/packages/readme_run.py README.md "$WORK/readme"

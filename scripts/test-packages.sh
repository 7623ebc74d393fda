#!/usr/bin/env bash
# The packages as a user gets them, each installed into a fresh project OUTSIDE the
# repository (a temporary directory):
# - the crates: `cargo publish --dry-run` of every public crate, in dependency order;
# - the wheel: abi3, manylinux_2_28 (`auditwheel show`), stripped, under 10 MB; `pip
#   install`ed into a fresh venv, imported, asked one question, and its `warden` command
#   (the CLI in the wheel) run on a copy of examples/;
# - the sdist: holds every crate it builds from; with WARDEN_SDIST_BUILD=1 also `pip
#   install`ed into a fresh venv, compiling with only Rust (a long compile: not in CI,
#   see docs/TESTING.md for the figure);
# - the npm packages: `npm pack` of bindings/node (addon inside) and of the published
#   layout (main package + platform package), each installed into a clean project,
#   `require`d and asked one question, and the TypeScript types checked by `tsc --noEmit`
#   on a small consumer; the addon's glibc floor (GLIBC_2.17 at most);
# - every command of the README's "Getting started", run as written
#   (scripts/packages/readme_run.py), each section in its own directory.
#
# Builds nothing twice: it installs the wheel scripts/test-python.sh built and tested
# ($CARGO_TARGET_DIR/dist/, or WARDEN_WHEEL) and packs the addon scripts/test-node.sh
# built (bindings/node/warden.<platform>.node): run it after them, as scripts/test-all.sh
# does. Since nothing is published yet, the README's install commands are pointed at
# these builds without changing a word of them: pip through PIP_FIND_LINKS, npm through a
# local registry that serves the two warden-policy tarballs and forwards the rest to the
# npm registry, cargo through `[patch.crates-io]` in the work directory's
# .cargo/config.toml.
#
# Parts: `--publish-only` runs the crates' step alone and `--skip-publish` every other
# step (scripts/test-all.sh runs the first while the Node addon builds, since it needs
# neither the wheel nor the addon, and the second after); no argument runs both.
#
# The README's `cargo install --locked --path cli` builds in WARDEN_CLI_TARGET_DIR when
# it is set (scripts/test-all.sh prebuilds the release CLI there, in the background,
# with `cargo build --release --locked -p warden-policy-cli`: the same build, which the
# install then finds done), in the workspace's target directory otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
publish=true
rest=true
case "${1:-}" in
  "") ;;
  --publish-only) rest=false ;;
  --skip-publish) publish=false ;;
  *)
    echo "usage: $0 [--publish-only | --skip-publish]" >&2
    exit 2
    ;;
esac
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TARGET=$CARGO_TARGET_DIR
VENV=${WARDEN_PY_VENV:-$TARGET/py-venv}
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' bindings/Cargo.toml | head -1)

fail() {
  echo "test-packages: $*" >&2
  exit 1
}

# Each step says how long it took, in wall time and in CPU time (user + system of the
# commands it ran), which is what predicts a less busy machine's wall time
# (docs/TESTING.md has the figures).
step_name=""
step() { # NAME: ends the step under way (printing its times), then starts NAME if given
  local now cpu
  now=$(date +%s)
  # `times` run here, not in a $(...) subshell (whose counts start at 0).
  times > "$WORK/times.txt"
  cpu=$(tail -1 "$WORK/times.txt" | awk '{ n = 0; for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); n += t[1] * 60 + t[2] } printf "%d", n }')
  if [ -n "$step_name" ]; then echo "-- $step_name: $((now - step_start)) s (CPU $((cpu - step_cpu)) s)"; fi
  step_name=${1%% (*}
  step_start=$now
  step_cpu=$cpu
  if [ -n "$1" ]; then echo "== $1"; fi
}

if $rest; then
  WHEEL=${WARDEN_WHEEL:-$(ls "$TARGET"/dist/warden_policy-"$VERSION"-*.whl 2>/dev/null | head -1)}
  [ -n "$WHEEL" ] && [ -f "$WHEEL" ] || fail "no wheel in $TARGET/dist: run scripts/test-python.sh first (or set WARDEN_WHEEL)"
  [ -x "$VENV/bin/auditwheel" ] || fail "no auditwheel in $VENV: run scripts/test-python.sh first (or set WARDEN_PY_VENV)"
  node -e "require('./bindings/node/binding').load()" >/dev/null 2>&1 ||
    fail "the addon bindings/node/warden.<platform>.node does not load: run scripts/test-node.sh first"
  ADDON=$(node -e "console.log(require('./bindings/node/binding').platformTriple())")
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/warden-packages.XXXXXX")
case "$WORK/" in "$ROOT"/*) fail "the work directory must be outside the repository" ;; esac
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
    fail "curl is needed (the README's examples use it)"
  fi
fi

# A policy and a question every installed package is asked (outside the repository).
cat > "$WORK/pkg.warden" <<'EOF'
policy pkg

role member
role admin > member

grant member: posts:read
grant admin: posts:delete

principal { id: string, roles: set<role> }

route /admin/** {
  require role admin
}
EOF

if $publish; then
  step "cargo publish --dry-run (lang, lint, core, cli, tower: packaged and built as crates.io would)"
  # One command for the workspace: cargo orders the crates by dependency and resolves each
  # one's dependencies on the others against the packages it just made (a temporary
  # registry in $TARGET/package/tmp-registry), so the unpublished path dependencies need
  # no registry. --allow-dirty only so that a working copy with edits can run this too;
  # CI's is clean.
  #
  # It builds in $TARGET, with the user's CARGO_HOME, so the crates.io dependencies
  # `cargo test` built are reused, not built again (a fresh CARGO_HOME would unpack them
  # under other paths, which cargo counts as changed sources). What must NOT be reused is
  # this checkout's own crates as the temporary registry serves them: cargo unpacks them
  # into CARGO_HOME/registry/src/-HASH/ (HASH from the temporary registry's path), keeps
  # an unpacked copy it finds there, and judges the build of a registry package by file
  # dates that packaging fixes (2006): the same path would give last run's sources and
  # builds. So the target directory is reached through a link made for this run: a new
  # registry path, a new HASH, freshly unpacked sources that cargo builds again; the
  # unpacked copy is removed afterwards.
  CARGO_HOME_DIR=${CARGO_HOME:-$HOME/.cargo}
  rm -rf "$TARGET/package"
  ln -s "$TARGET" "$WORK/target"
  ls -d "$CARGO_HOME_DIR"/registry/src/-* > "$WORK/unpacked-before.txt" 2> /dev/null || true
  publish_rc=0
  CARGO_TARGET_DIR="$WORK/target" cargo publish --dry-run --workspace --allow-dirty --quiet || publish_rc=$?
  for d in "$CARGO_HOME_DIR"/registry/src/-*; do
    if [ -d "$d" ] && ! grep -qxF "$d" "$WORK/unpacked-before.txt"; then rm -rf "$d"; fi
  done
  [ "$publish_rc" = 0 ] || fail "cargo publish --dry-run failed"
fi

if ! $rest; then
  step ""
  echo "test-packages: the crates passed"
  exit 0
fi

step "wheel $(basename "$WHEEL")"
NAME=$(basename "$WHEEL")
SIZE=$(stat -c %s "$WHEEL")
echo "$NAME: $SIZE bytes"
case "$NAME" in
  *-cp310-abi3-manylinux_2_28_x86_64*.whl) ;;
  *) fail "$NAME is not an abi3 manylinux_2_28 wheel" ;;
esac
[ "$SIZE" -lt $((10 * 1024 * 1024)) ] || fail "the wheel is $SIZE bytes, not under 10 MB"
"$VENV/bin/auditwheel" show "$WHEEL" | tee "$WORK/auditwheel.txt"
# (auditwheel wraps its sentences: compared with the line breaks made spaces)
tr -s '\n ' '  ' < "$WORK/auditwheel.txt" | grep -q 'consistent with the following platform tag: "manylinux_2_28_x86_64"' ||
  fail "auditwheel does not find the wheel manylinux_2_28"
# Stripped: neither a symbol table nor debug info in the shipped module.
"$VENV/bin/python" - "$WHEEL" <<'EOF'
import io
import sys
import zipfile

from elftools.elf.elffile import ELFFile  # auditwheel's dependency

with zipfile.ZipFile(sys.argv[1]) as z:
    mods = [n for n in z.namelist() if n.endswith(".so")]
    assert mods, "no native module in the wheel"
    for n in mods:
        elf = ELFFile(io.BytesIO(z.read(n)))
        extra = [s.name for s in elf.iter_sections() if s.name == ".symtab" or s.name.startswith(".debug")]
        assert not extra, f"{n} is not stripped: {extra}"
        print(f"{n}: stripped")
    entry = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "warden=warden._cli:main" in entry.replace(" ", ""), f"no `warden` script in the wheel:\n{entry}"
EOF
mkdir -p "$WORK/wheelhouse"
cp "$WHEEL" "$WORK/wheelhouse/"

# pip install into a fresh venv; the module answers; the `warden` command is there.
check_venv() { # VENV: warden-policy installed there answers and its `warden` works
  (cd "$WORK" && "$1/bin/python" - <<'EOF'
import warden

engine = warden.Engine.from_file("pkg.warden")
member = {"id": "alice", "roles": ["member"]}
read = engine.authorize(principal=member, action="posts:read")
delete = engine.authorize(principal=member, action="posts:delete")
assert read.allowed and not delete.allowed, (read, delete)
admin = engine.check_http(method="GET", path="/admin/stats", principal=member)
assert admin.status == 403, admin
print(f"import warden ({warden.__file__}): posts:read allowed, posts:delete denied, GET /admin/stats {admin.status}")
EOF
  )
  local version
  version=$("$1/bin/warden" --version)
  [ "$version" = "warden $VERSION" ] || fail "\`warden --version\` printed '$version', not 'warden $VERSION'"
  echo "$1/bin/warden --version: $version"
  (cd "$WORK" && "$1/bin/warden" check pkg.warden)
  # The example policies and their tests only: examples/apps (the example apps, with
  # their node_modules) is being installed and run by scripts/test-examples.sh beside
  # this suite.
  rm -rf "$WORK/examples" && mkdir "$WORK/examples"
  find "$ROOT/examples" -maxdepth 1 -type f -exec cp {} "$WORK/examples/" \;
  (cd "$WORK" && "$1/bin/warden" test examples/ > "$WORK/warden-test.txt" 2>&1) || {
    cat "$WORK/warden-test.txt" >&2
    fail "\`warden test examples/\` from $1 failed"
  }
  echo "$1/bin/warden test examples/: $(tail -1 "$WORK/warden-test.txt")"
  # The command fails as the binary does: exit 1 on a policy with an error, 2 on usage.
  printf 'policy bad\ngrant nobody: posts:read\n' > "$WORK/bad.warden"
  local rc=0
  (cd "$WORK" && "$1/bin/warden" check bad.warden 2> "$WORK/bad.txt") || rc=$?
  [ "$rc" = 1 ] && grep -q 'bad.warden:2' "$WORK/bad.txt" ||
    fail "\`warden check bad.warden\` exited $rc: $(cat "$WORK/bad.txt")"
  rc=0
  "$1/bin/warden" chek pkg.warden 2> /dev/null || rc=$?
  [ "$rc" = 2 ] || fail "\`warden chek\` (a usage error) exited $rc, not 2"
}
python3 -m venv "$WORK/venv-wheel"
"$WORK/venv-wheel/bin/pip" install -q --disable-pip-version-check "$WHEEL"
check_venv "$WORK/venv-wheel"

step "sdist (the Rust crates it builds from are inside)"
(cd bindings/python && "$VENV/bin/maturin" sdist --out "$WORK/sdist" > /dev/null)
SDIST=$(ls "$WORK"/sdist/warden_policy-*.tar.gz)
tar -tzf "$SDIST" > "$WORK/sdist.txt"
for f in pyproject.toml core/Cargo.toml lang/Cargo.toml cli/Cargo.toml cli/src/lib.rs bindings/host/Cargo.toml \
  bindings/python/Cargo.toml python/warden/__init__.py python/warden/_cli.py \
  lang/src/grammar.pest; do
  grep -q "/$f\$" "$WORK/sdist.txt" || fail "$f is missing from $(basename "$SDIST")"
done
echo "$(basename "$SDIST"): $(wc -l < "$WORK/sdist.txt") files"
if [ "${WARDEN_SDIST_BUILD:-0}" = 1 ]; then
  step "sdist: pip install into a fresh venv (compiles the engine from source: many minutes)"
  python3 -m venv "$WORK/venv-sdist"
  start=$(date +%s)
  # Its own target directory, as on a user's machine (no build of this checkout reused).
  (cd "$WORK" && env -u CARGO_TARGET_DIR "$WORK/venv-sdist/bin/pip" install -v --disable-pip-version-check "$SDIST" \
    > "$WORK/sdist-build.log" 2>&1) || {
    tail -40 "$WORK/sdist-build.log" >&2
    fail "pip install of the sdist failed"
  }
  echo "pip install $(basename "$SDIST"): $(($(date +%s) - start)) s"
  check_venv "$WORK/venv-sdist"
else
  echo "(building the sdist from source is skipped: WARDEN_SDIST_BUILD=1 runs it)"
fi

step "npm packages"
# The glibc floor of the Linux addon: what a machine needs to load the prebuilt package.
if [ "$ADDON" = linux-x64-gnu ]; then
  command -v objdump > /dev/null || fail "objdump (binutils) is needed for the addon's glibc floor"
  FLOOR=$(objdump -T "bindings/node/warden.$ADDON.node" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
  echo "warden.$ADDON.node needs $FLOOR at most"
  [ "$(printf '%s\n' "$FLOOR" GLIBC_2.17 | sort -V | tail -1)" = GLIBC_2.17 ] ||
    fail "the addon needs $FLOOR: build it as scripts/test-node.sh does (cargo-zigbuild, glibc 2.17)"
fi
# Every source file of the package is in it (package.json `files`): all but the tests,
# benches, Rust sources and the platform packages' folders.
(cd bindings/node && npm pack --dry-run --json 2> /dev/null) | node -e "
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
(cd bindings/node && npm pack --silent --pack-destination "$WORK/npm" > /dev/null)
mv "$WORK/npm/warden-policy-$VERSION.tgz" "$WORK/npm/local-build.tgz"
# 2. The published layout (napi artifacts + napi prepublish): the addon in its platform
#    package, the main package without it, listing the platform packages.
cp -r "bindings/node/npm/$ADDON" "$WORK/npm/platform"
cp "bindings/node/warden.$ADDON.node" "$WORK/npm/platform/"
(cd "$WORK/npm/platform" && npm pack --silent --pack-destination "$WORK/npm" > /dev/null)
mkdir "$WORK/npm/main"
(cd bindings/node && cp package.json ./*.js ./*.d.ts "$WORK/npm/main/")
(cd "$WORK/npm/main" && node -e "
  const fs = require('node:fs');
  const p = JSON.parse(fs.readFileSync('package.json', 'utf8'));
  p.optionalDependencies = Object.fromEntries(
    fs.readdirSync('$ROOT/bindings/node/npm').map((t) => ['warden-policy-' + t, p.version]));
  fs.writeFileSync('package.json', JSON.stringify(p, null, 2));
" && npm pack --silent --pack-destination "$WORK/npm" > /dev/null)
ls -l "$WORK"/npm/*.tgz

# The local registry: the two warden-policy packages of the published layout, the rest
# forwarded to the npm registry.
node scripts/packages/registry.js "$(npm config get registry)" "$WORK/npm/warden-policy-$VERSION.tgz" \
  "$WORK/npm/warden-policy-$ADDON-$VERSION.tgz" > "$WORK/registry.url" &
registry_pid=$!
for _ in $(seq 100); do [ -s "$WORK/registry.url" ] && break; sleep 0.1; done
[ -s "$WORK/registry.url" ] || fail "the local npm registry did not start"
export npm_config_cache="$WORK/npm-cache" npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

check_project() { # DIR: warden-policy loads there and answers
  (cd "$1" && node -e "
    const { Engine } = require('warden-policy');
    const e = Engine.fromFile('$WORK/pkg.warden');
    const member = { id: 'alice', roles: ['member'] };
    const read = e.authorize({ principal: member, action: 'posts:read' });
    const del = e.authorize({ principal: member, action: 'posts:delete' });
    if (!read.allowed || del.allowed) throw new Error('unexpected decisions ' + JSON.stringify([read, del]));
    const d = e.checkHttp({ method: 'GET', path: '/admin/stats', principal: member });
    if (d.status !== 403) throw new Error('expected 403, got ' + d.status);
    console.log('$1: require(\'warden-policy\') answers: posts:read allowed, posts:delete denied, GET /admin/stats 403');
  ")
}
# The tarball of `npm pack`, `npm install ./bindings/node`, and the published layout
# from the registry, each in a clean project.
mkdir "$WORK/from-tarball" "$WORK/from-folder" "$WORK/from-registry"
(cd "$WORK/from-tarball" && npm init -y > /dev/null && npm install --silent "$WORK/npm/local-build.tgz")
check_project "$WORK/from-tarball"
(cd "$WORK/from-folder" && npm init -y > /dev/null && npm install --silent "$ROOT/bindings/node")
check_project "$WORK/from-folder"
(cd "$WORK/from-registry" && npm init -y > /dev/null &&
  npm install --silent --registry "$(cat "$WORK/registry.url")" warden-policy)
[ -f "$WORK/from-registry/node_modules/warden-policy-$ADDON/warden.$ADDON.node" ] ||
  fail "npm install warden-policy did not install the platform package warden-policy-$ADDON"
ls "$WORK"/from-registry/node_modules/warden-policy/*.node > /dev/null 2>&1 &&
  fail "the published main package carries an addon itself"
check_project "$WORK/from-registry"

step "TypeScript: the package's types, as a consumer compiles against them"
(cd "$WORK/from-registry" && npm install --silent --registry "$(cat "$WORK/registry.url")" \
  typescript@5.9.3 @types/node@20.19.43)
cat > "$WORK/from-registry/consumer.ts" <<'EOF'
import { Engine, PolicyError, express, type Decision, type HttpDecision, type Principal } from 'warden-policy';

const engine: Engine = Engine.fromFile('policy.warden', { env: 'production' });
const alice: Principal = { id: 'alice', roles: ['member'] };
const read: Decision = engine.authorize({ principal: alice, action: 'posts:read' });
const http: HttpDecision = engine.checkHttp({ method: 'GET', path: '/admin/stats', principal: alice });
const allowed: boolean = read.allowed;
const status: number = http.status;
const middleware = express(engine, { principal: () => alice });
const isPolicyError = (e: unknown): boolean => e instanceof PolicyError;
export { allowed, status, middleware, isPolicyError };
EOF
# And a misuse the types must reject: the check fails when they are `any`.
cat > "$WORK/from-registry/misuse.ts" <<'EOF'
import { Engine } from 'warden-policy';

const engine = Engine.fromFile('policy.warden');
const status: string = engine.checkHttp({ method: 'GET', path: '/' }).status;
export { status };
EOF
TSC="$WORK/from-registry/node_modules/.bin/tsc"
TSFLAGS=(--noEmit --strict --module commonjs --moduleResolution node10 --target es2022 --types node)
(cd "$WORK/from-registry" && "$TSC" "${TSFLAGS[@]}" consumer.ts)
echo "tsc --noEmit consumer.ts: the types of 'warden-policy' resolve"
if (cd "$WORK/from-registry" && "$TSC" "${TSFLAGS[@]}" misuse.ts > "$WORK/misuse.txt" 2>&1); then
  fail "tsc accepted a number as a string: the package's types do not reach the consumer"
fi
grep -q "TS2322" "$WORK/misuse.txt" || fail "tsc rejected misuse.ts for another reason: $(cat "$WORK/misuse.txt")"
echo "tsc --noEmit misuse.ts: rejected ($(grep -o 'TS2322' "$WORK/misuse.txt" | head -1))"

step "README getting started (in $WORK/readme)"
mkdir -p "$WORK/readme/.cargo"
cat > "$WORK/readme/.cargo/config.toml" <<EOF
[patch.crates-io]
warden-policy = { path = "$ROOT/core" }
warden-policy-lang = { path = "$ROOT/lang" }
EOF
env \
  PIP_FIND_LINKS="$WORK/wheelhouse" PIP_DISABLE_PIP_VERSION_CHECK=1 \
  npm_config_registry="$(cat "$WORK/registry.url")" \
  CARGO_INSTALL_ROOT="$WORK/cargo-root" PATH="$WORK/cargo-root/bin:$PATH" \
  python3 scripts/packages/readme_run.py README.md "$WORK/readme" \
  --env "Policy authors:CARGO_TARGET_DIR=${WARDEN_CLI_TARGET_DIR:-$TARGET}"
step ""
if $publish; then echo "test-packages: all passed"; else echo "test-packages: all passed but the crates' step (run apart)"; fi

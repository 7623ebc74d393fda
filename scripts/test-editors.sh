#!/usr/bin/env bash
# The editor support: the VS Code extension's TextMate grammar against its
# assertions (vscode-tmgrammar-test). The language server itself is tested by
# `cargo test -p warden-policy-cli --test lsp` (the real binary over stdio).
set -euo pipefail
cd "$(dirname "$0")/../editors/vscode"
npm ci --no-audit --no-fund
npm test

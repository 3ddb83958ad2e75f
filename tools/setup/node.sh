#!/usr/bin/env bash
# Installs the Node packages from the lock file, only when the lock or the set of workspace packages
# changed since the last install (a new workspace needs its node_modules link).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js >= 20.19 is required (found $(node --version 2>/dev/null || echo none))"
key=$(cat package-lock.json package.json $(git ls-files '*/package.json' 2>/dev/null || true) | sha256sum | cut -c1-16)
if [ -f node_modules/.chatcluster-lock ] && [ "$(cat node_modules/.chatcluster-lock)" = "$key" ]; then
  say "Node packages present"
  exit 0
fi
say "installing Node packages (npm ci)"
npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed"
echo "$key" > node_modules/.chatcluster-lock

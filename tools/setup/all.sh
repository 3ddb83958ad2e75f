#!/usr/bin/env bash
# Everything a fresh machine needs, idempotently: Debian packages, Node packages, Go-built tools, the
# local cluster's base image rootfs, third-party CRDs. Each step skips itself when already done.
source "$(dirname "$0")/lib.sh"
started=$SECONDS
"$ROOT/tools/setup/debian.sh"
"$ROOT/tools/setup/node.sh"
"$ROOT/tools/setup/go-tools.sh"
"$ROOT/tools/setup/base-image.sh"
"$ROOT/tools/setup/crds.sh"
say "setup complete ($((SECONDS - started)) s)"

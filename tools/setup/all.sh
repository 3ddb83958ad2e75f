#!/usr/bin/env bash
# Everything a fresh machine needs, idempotently: Debian packages, Node packages, Go-built tools, the
# local cluster's base image rootfs, third-party CRDs. Each step skips itself when already done, and
# says how long it took.
source "$(dirname "$0")/lib.sh"
started=$SECONDS
for step in debian node go-tools base-image crds; do
  step_started=$SECONDS
  "$ROOT/tools/setup/$step.sh"
  say "step $step: $((SECONDS - step_started)) s"
done
say "setup complete ($((SECONDS - started)) s)"

#!/usr/bin/env bash
# Installs the Debian packages the harness runs: PostgreSQL, Redis, Prometheus (promtool),
# Alertmanager (amtool), Chromium for browser tests, and the local cluster's node runtime (containerd,
# runc, the CNI plugins, iptables, conntrack, socat for port-forward) with mmdebstrap for its base
# image. Idempotent: installs only what is missing.
source "$(dirname "$0")/lib.sh"

packages=(
  "postgresql-$POSTGRES_MAJOR" redis-server prometheus prometheus-alertmanager
  openssl ca-certificates chromium
  containerd runc containernetworking-plugins iptables conntrack socat mmdebstrap
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  say "Debian packages present"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "Debian packages missing (${missing[*]}); run 'make setup' as root or install them with apt-get"
say "installing Debian packages: ${missing[*]}"
# Keep the packages' own services from starting: tests start private instances on free ports.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; added_policy=1; fi
trap '[ $added_policy = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || die "apt-get update failed"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
say "Debian packages installed"

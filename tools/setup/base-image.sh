#!/usr/bin/env bash
# Builds the root file system of the local cluster's app images ($CACHE/images/base-rootfs.tar): a
# minimal Debian bookworm (mmdebstrap's essential variant + CA certificates + libstdc++) with this
# machine's Node 20 as /usr/local/bin/node, since bookworm's own nodejs is 18. It stands in for the
# Dockerfiles' distroless runtime image, which cannot be pulled here (tools/images assembles the images).
# Packages come from this machine's apt sources, so it works wherever apt-get does. Rebuilt only when
# the Node version or this script changes.
source "$(dirname "$0")/lib.sh"
out="$CACHE/images/base-rootfs.tar"
node=$(readlink -f "$(command -v node)") || die "node is not installed"
node_version=$("$node" --version)
key="$node_version-$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
if up_to_date base-rootfs "$key" && [ -f "$out" ]; then
  say "base image rootfs present ($node_version)"
  exit 0
fi
command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (tools/setup/debian.sh installs it)"

# The host's apt sources as apt reads them; files with no active entry are skipped (mmdebstrap
# cannot tell the format of an empty one).
sources=()
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$file" ] && grep -qE '^[[:space:]]*[^#[:space:]]' "$file" && sources+=("$file")
done
[ ${#sources[@]} -gt 0 ] || die "no apt sources in /etc/apt/sources.list{,.d/*}"
grep -qw bookworm "${sources[@]}" || die "this machine's apt sources (${sources[*]}) carry no bookworm suite"

say "building the base image rootfs: Debian bookworm + Node $node_version (about a minute)"
started=$SECONDS
mkdir -p "$(dirname "$out")"
tmp="${out%.tar}.partial.tar" # mmdebstrap picks the format by the extension
# The hooks run under sh with the chroot as $1, after the packages are installed. `chroot … test -e`
# resolves the rootfs' own (partly absolute) library symlinks, which a test from outside would not.
export CHATCLUSTER_NODE=$node CHATCLUSTER_NODE_VERSION=$node_version
# shellcheck disable=SC2016 # expanded by the hook's sh, not here
copy_node='install -D -m 0755 "$CHATCLUSTER_NODE" "$1/usr/local/bin/node"
  for lib in $(ldd "$CHATCLUSTER_NODE" | grep -o "/[^ ]*"); do
    chroot "$1" test -e "$lib" || { echo "adding $lib"; install -D -m 0644 "$(readlink -f "$lib")" "$1$lib"; }
  done
  [ "$(chroot "$1" /usr/local/bin/node --version)" = "$CHATCLUSTER_NODE_VERSION" ]'
# The user distroless' :nonroot images run as (USER 65532:65532 in the Dockerfiles).
# shellcheck disable=SC2016
add_nonroot='echo "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" >> "$1/etc/passwd"
  echo "nonroot:x:65532:" >> "$1/etc/group"
  install -d -o 65532 -g 65532 -m 0700 "$1/home/nonroot"'
# The host's resolv.conf and hostname: the container runtime provides its own.
# shellcheck disable=SC2016
drop_host_files='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"'
# SOURCE_DATE_EPOCH makes the tar reproducible (same sources and Node, same digest).
SOURCE_DATE_EPOCH=0 with_heartbeat "base image rootfs" mmdebstrap --quiet --variant=essential \
  --include=ca-certificates,libstdc++6 \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook="$copy_node" --customize-hook="$add_nonroot" --customize-hook="$drop_host_files" \
  bookworm "$tmp" "${sources[@]}" \
  || { rm -f "$tmp"; die "mmdebstrap failed (as root it chroots; otherwise it needs /etc/subuid and /etc/subgid entries)"; }
mv "$tmp" "$out"
mark_built base-rootfs "$key"
say "built the base image rootfs: $out, $(du -m "$out" | cut -f1) MB ($((SECONDS - started)) s)"

#!/usr/bin/env bash
# Usage: .ci/debian-root.sh CACHE_DIR DIR
# Makes DIR a fresh Debian 13 (trixie) root, the userland of node:24-trixie-slim: unpacked from
# CACHE_DIR/trixie-minbase.tar, which debootstrap makes (Debian's default mirror, about a minute)
# when it is missing or its recorded sha256 does not match. DIR is removed first.
set -euo pipefail
cache="$1"
dir="$2"
tarball="$cache/trixie-minbase.tar"
mkdir -p "$cache"

if ! (cd "$cache" && sha256sum --status -c trixie-minbase.tar.sha256 2>/dev/null); then
  echo "debian-root: making $tarball with debootstrap"
  rm -rf "$cache/trixie.tmp" "$tarball" "$tarball.sha256"
  debootstrap --variant=minbase trixie "$cache/trixie.tmp" >"$cache/debootstrap.log" 2>&1 \
    || { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
  tar -C "$cache/trixie.tmp" -cf "$tarball" .
  rm -rf "$cache/trixie.tmp"
  (cd "$cache" && sha256sum trixie-minbase.tar >trixie-minbase.tar.sha256)
fi

rm -rf "$dir"
mkdir -p "$dir"
tar -C "$dir" -xf "$tarball"
# debootstrap writes no hosts file; the tests and the service resolve localhost.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$dir/etc/hosts"
chroot "$dir" /usr/bin/ldd --version | head -n 1

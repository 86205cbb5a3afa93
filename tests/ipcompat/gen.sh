#!/bin/bash
# gen.sh records what iproute2's `ip` prints for every command of
# testdata/script.txt, run against a fresh kernel network namespace, into
# testdata/iproute2.txt. The Go test replays the same script with
# `usnet ip` and compares (see compat_test.go).
#
# Run as root: bash tests/ipcompat/gen.sh
# Another script: SCRIPT=routeget-script.txt OUT=routeget-iproute2.txt bash tests/ipcompat/gen.sh
# The namespace it creates is deleted on exit, also on failure.
set -eu
cd "$(dirname "$0")"
SCRIPT=${SCRIPT:-script.txt}
OUT=${OUT:-iproute2.txt}
NS=usnet-ipc-$$
PEER=usnet-ipc-peer-$$
cleanup() {
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$PEER" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ip netns add "$NS"
ip netns add "$PEER"
# usnet has no IPv6 yet, and link-local addresses would depend on MACs.
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

out=testdata/$OUT.tmp
{
	echo "# recorded by gen.sh with $(ip -V) on Linux $(uname -r)"
	while IFS= read -r line; do
		case "$line" in '' | '#'*) continue ;; '@settle') sleep 1.5; continue ;; esac
		line2=${line//@PEER/$PEER}
		read -r -a args <<<"${line2//@SELF/$NS}"
		set +e
		stdout=$(ip -n "$NS" "${args[@]}" 2>/tmp/ipc-stderr.$$; echo "rc=$?")
		set -e
		rc=${stdout##*rc=}
		stdout=${stdout%rc=*}
		echo "=== $line"
		echo "exit $rc"
		printf '%s' "$stdout" | sed 's/^/| /'
		echo "--- stderr"
		sed 's/^/| /' /tmp/ipc-stderr.$$
	done <"testdata/$SCRIPT"
} >"$out"
rm -f /tmp/ipc-stderr.$$
mv "$out" "testdata/$OUT"
echo "wrote testdata/$OUT"

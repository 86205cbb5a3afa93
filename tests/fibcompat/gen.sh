#!/bin/bash
# gen.sh records the kernel's answers to the route lookups of
# testdata/cases.txt into testdata/kernel.txt, which the Go test replays
# on a usnet FIB (fibcompat_test.go).
#
# cases.txt is a list of configurations. Each starts with "config NAME" and
# gets a fresh network namespace; then come lines
#   ip ARGS...        an ip command run in the namespace (ip -n NS ARGS)
#   sysctl KEY=VALUE  a sysctl set in the namespace
#   get ARGS...       a lookup: ip -j route get ARGS
#   spread N ARGS...  N lookups with ARGS, "sport 1000+i" appended; the
#                     distinct gateways are recorded (ECMP spreading)
# kernel.txt repeats every line with its exit status, output and error.
#
# Run as root: bash tests/fibcompat/gen.sh. The namespaces are deleted on
# exit, also on failure. Traffic never leaves them.
set -eu
cd "$(dirname "$0")"
NS=""
n=0
cleanup() {
	if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null || true; fi
	rm -f /tmp/fibc-err.$$
}
trap cleanup EXIT INT TERM

newns() {
	cleanup
	n=$((n + 1))
	NS=usnet-fibc-$$-$n
	ip netns add "$NS"
	# Fresh namespaces start with IPv4 defaults; no IPv6 noise.
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# run CMD... : prints "exit RC", then "out LINE" and "err LINE" lines.
run() {
	local out rc
	set +e
	out=$("$@" 2>/tmp/fibc-err.$$)
	rc=$?
	set -e
	echo "exit $rc"
	if [ -n "$out" ]; then printf '%s\n' "$out" | sed 's/^/out /'; fi
	sed 's/^/err /' /tmp/fibc-err.$$
}

tmp=testdata/kernel.txt.tmp
{
	echo "# recorded by tests/fibcompat/gen.sh with $(ip -V) on Linux $(uname -r); regenerate, do not edit"
	while IFS= read -r line; do
		case "$line" in '' | '#'*) continue ;; esac
		read -r -a a <<<"$line"
		echo "$line"
		case "${a[0]}" in
		config) newns ;;
		ip) run ip -n "$NS" "${a[@]:1}" ;;
		sysctl) run ip netns exec "$NS" sysctl -qw "${a[1]}" ;;
		settle) sleep "${a[1]}"; echo "exit 0" ;;
		get) run ip -n "$NS" -j route get "${a[@]:1}" ;;
		spread)
			gws=$(for i in $(seq 0 $((a[1] - 1))); do
				ip -n "$NS" -j route get "${a[@]:2}" sport $((1000 + i)) | grep -o '"gateway":"[^"]*"' || true
			done | sort -u | tr '\n' ' ')
			echo "exit 0"
			echo "out $gws"
			;;
		*) echo "unknown directive: $line" >&2; exit 1 ;;
		esac
	done <testdata/cases.txt
} >"$tmp"
mv "$tmp" testdata/kernel.txt
echo "wrote testdata/kernel.txt ($(grep -c '^get ' testdata/kernel.txt) lookups)"

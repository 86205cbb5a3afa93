#!/usr/bin/env bash
# record.sh captures what the real Linux kernel says over rtnetlink, for
# usnet's decoder and wire-compatibility tests. Run as root from anywhere:
#
#   bash tests/kernelref/record.sh
#
# It creates a private network namespace, performs ten common operations
# one at a time with iproute2 while nlrecord (cmd/nlrecord) records every
# notification on RTNLGRP_LINK, IPV4_IFADDR, IPV4_ROUTE, IPV4_RULE, NEIGH
# and IPV4_NETCONF and `ip monitor all` records its text, then records raw
# dump replies and the kernel's NLMSG_ERROR layouts, and deletes the
# namespace. Addresses are documentation ranges (RFC 5737) that exist only
# inside the namespace. Output: tests/kernelref/testdata/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="$here/testdata"
ns="usnet-ref-$$"
tmp=$(mktemp -d)
mkdir -p "$out"

if [ "$(id -u)" != 0 ]; then
	echo "record.sh: must run as root" >&2
	exit 1
fi

cleanup() {
	for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$here/../.." && go build -o "$tmp/nlrecord" ./tests/kernelref/cmd/nlrecord)
ip netns add "$ns"
nsx() { ip netns exec "$ns" "$@"; }

# step NAME DESCRIPTION COMMAND...: record the notifications of one
# operation into notify-NAME.txt.
step() {
	local name=$1 desc=$2
	shift 2
	local f="$out/notify-$name.txt" ready="$tmp/ready-$name" mon="$tmp/monitor-$name.txt"
	local raw="$tmp/raw-$name.txt"
	# Started directly (not through a shell function) so that $! is
	# nlrecord itself once ip netns exec has exec'd it.
	ip netns exec "$ns" "$tmp/nlrecord" monitor -out "$raw" -ready "$ready" &
	local rec=$!
	ip -n "$ns" monitor all >"$mon" 2>&1 &
	local ipm=$!
	for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.05; done
	sleep 0.3 # let ip monitor subscribe
	"$@"
	sleep 0.5 # let notifications arrive
	kill -TERM "$rec" "$ipm"
	wait "$rec" || true
	wait "$ipm" 2>/dev/null || true
	{
		echo "# usnet kernel reference: rtnetlink notifications of one operation"
		echo "# kernel: $(uname -r), $(ip -V)"
		echo "# operation: $desc"
		echo "# command: $*"
		echo "#"
		echo "# ip monitor all:"
		sed 's/^/#   /' "$mon"
		echo "#"
		cat "$raw"
	} >"$f"
	echo "recorded $f: $(grep -c '^datagram' "$f") datagram(s)"
}

both_up() { ip -n "$ns" link set veth0 up && ip -n "$ns" link set veth1 up; }

ip -n "$ns" link set lo up
step 01-veth-create "create veth pair" ip -n "$ns" link add veth0 type veth peer name veth1
step 02-link-up "set link up (both ends)" both_up
step 03-addr-add "add address /24" ip -n "$ns" addr add 192.0.2.1/24 dev veth0
step 04-addr-add-secondary "add second address (secondary)" ip -n "$ns" addr add 192.0.2.2/24 dev veth0
step 05-route-add-gw "add route via gateway" ip -n "$ns" route add 198.51.100.0/24 via 192.0.2.254
step 06-route-add-table100 "add route in table 100" ip -n "$ns" route add 203.0.113.0/24 via 192.0.2.254 table 100
step 07-rule-add "add rule" ip -n "$ns" rule add from 192.0.2.0/24 table 100 priority 1000
step 08-neigh-add "add neighbour permanent" ip -n "$ns" neigh add 192.0.2.254 lladdr 02:00:00:00:00:fe dev veth0 nud permanent

for kind in link addr route; do
	nsx "$tmp/nlrecord" dump -kind "$kind" -out "$out/dump-$kind.txt"
	echo "recorded $out/dump-$kind.txt"
done
nsx "$tmp/nlrecord" errors -out "$out/errors.txt"
echo "recorded $out/errors.txt"

step 09-link-down "set link down" ip -n "$ns" link set veth0 down
step 10-addr-del "delete address" ip -n "$ns" addr del 192.0.2.2/24 dev veth0
step 11-link-del "delete link" ip -n "$ns" link del veth0

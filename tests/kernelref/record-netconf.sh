#!/usr/bin/env bash
# record-netconf.sh captures the RTM_NEWNETCONF notifications the kernel
# sends for sysctl writes under /proc/sys/net/ipv4, for package sysctl's
# and rtnl's tests. Run as root from anywhere:
#
#   bash tests/kernelref/record-netconf.sh
#
# It creates a private namespace with lo and a veth pair (v0, peer v1:
# the kernel registers the peer first, so the device list is lo, v1, v0),
# then performs each write with `sysctl -w` while nlrecord records the
# namespace's notifications. Output: testdata/netconf-NN-NAME.txt, in the
# format of record.sh's notify files.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="$here/testdata"
ns="usnet-ncref-$$"
tmp=$(mktemp -d)

if [ "$(id -u)" != 0 ]; then
	echo "record-netconf.sh: must run as root" >&2
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
ip -n "$ns" link set lo up
ip -n "$ns" link add v0 type veth peer name v1

step() {
	local name=$1 kv=$2
	local f="$out/netconf-$name.txt" ready="$tmp/ready-$name" raw="$tmp/raw-$name.txt"
	ip netns exec "$ns" "$tmp/nlrecord" monitor -out "$raw" -ready "$ready" &
	local rec=$!
	for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.05; done
	ip netns exec "$ns" sysctl -q -w "$kv"
	sleep 0.3
	kill -TERM "$rec"
	wait "$rec" || true
	{
		echo "# usnet kernel reference: notifications of one sysctl write"
		echo "# kernel: $(uname -r)"
		echo "# command: sysctl -w $kv"
		echo "#"
		cat "$raw"
	} >"$f"
	echo "recorded $f: $(grep -c '^datagram' "$f" || true) datagram(s)"
}

step 01-ip-forward-on net.ipv4.ip_forward=1
step 02-ip-forward-again net.ipv4.ip_forward=1
step 03-dev-rp-filter net.ipv4.conf.v0.rp_filter=2
step 04-dev-rp-filter-again net.ipv4.conf.v0.rp_filter=2
step 05-all-proxy-arp net.ipv4.conf.all.proxy_arp=1
step 06-default-forwarding-off net.ipv4.conf.default.forwarding=0
step 07-default-forwarding-again net.ipv4.conf.default.forwarding=0
step 08-all-forwarding-off net.ipv4.conf.all.forwarding=0
step 09-dev-forwarding-on net.ipv4.conf.v0.forwarding=1
step 10-default-rp-filter net.ipv4.conf.default.rp_filter=1
step 11-all-ignore-linkdown net.ipv4.conf.all.ignore_routes_with_linkdown=1
step 12-default-forwarding-on net.ipv4.conf.default.forwarding=1

#!/usr/bin/env bash
# Runs usnet's whole test suite. It first installs what the tests need
# (Debian packages, when run as root; Go modules come through go.mod).
# Host tests (network namespaces, TAP) need root and skip without it.
set -euo pipefail
cd "$(dirname "$0")"

packages=(tshark iproute2 iputils-ping socat curl iperf3)
missing=()
for p in "${packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "== installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq "${missing[@]}" >/dev/null
	else
		echo "== not root: ${missing[*]} missing; the tests that need them will skip"
	fi
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...
(cd bench && go vet ./...)
echo "== go test"
go test -count=1 ./...
echo "== interop test modules (third-party peers stay out of usnet's go.mod)"
for m in tests/gvisor tests/nlinterop; do
	(cd "$m" && go vet ./... && go test -count=1 ./...)
done
echo "== go test -race (concurrent code)"
go test -race -count=1 ./executor/... ./skb/... ./drivers/... ./netns/... ./netdev/... ./neigh/... ./arp/... ./framedio/... ./socket/... ./sockproxy/... ./daemon/... ./rtnl/... ./client/...
echo "== comparison suite's own tests"
(cd bench && go test -count=1 ./...)
echo "== comparison benchmarks, smoke mode (checks the suite runs, not speed)"
smoke_log=$(mktemp)
if ! (cd bench && go run ./cmd/bench -smoke) >"$smoke_log" 2>&1; then
	cat "$smoke_log"; rm -f "$smoke_log"; exit 1
fi
rm -f "$smoke_log"; echo "   ok"

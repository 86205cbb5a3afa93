package sysctl

import (
	"strings"
	"syscall"
	"time"

	"github.com/usnet/usnet/neigh"
)

// The net.ipv4.neigh.DEV.* names: a device's ARP parameters
// (neigh.Params). A namespace other than the initial one has no
// net.ipv4.neigh.default on Linux, and usnet has none in any namespace;
// anycast_delay, proxy_delay, proxy_qlen and interval_probe_time_ms,
// which usnet does not model, are absent.

const neighPrefix = "net.ipv4.neigh."

// userHZ is USER_HZ, the unit of retrans_time and locktime (1/100 s).
const userHZ = 100

// truesizeEth is SKB_TRUESIZE(ETH_FRAME_LEN), the unit unres_qlen counts
// unres_qlen_bytes in.
var truesizeEth = int64(neigh.Truesize(1514))

// neighKey is one per-device name: its value in the name's unit, and
// how to store one (lo, hi bound the written value).
type neighKey struct {
	name   string
	lo, hi int64
	get    func(p *neigh.Params) int64
	set    func(p *neigh.Params, v int64)
}

// durKey is a duration shown in unit.
func durKey(name string, hi int64, unit time.Duration, f func(p *neigh.Params) *time.Duration) neighKey {
	return neighKey{name, 0, hi,
		func(p *neigh.Params) int64 { return int64(*f(p) / unit) },
		func(p *neigh.Params, v int64) { *f(p) = time.Duration(v) * unit }}
}

// countKey is a count in [0, INT_MAX] (neigh_proc_dointvec_zero_intmax).
func countKey(name string, f func(p *neigh.Params) *int) neighKey {
	return neighKey{name, 0, intMax,
		func(p *neigh.Params) int64 { return int64(*f(p)) },
		func(p *neigh.Params, v int64) { *f(p) = int(v) }}
}

// neighKeys are sorted by name. Durations take no negative value: the
// kernel accepts some (locktime, gc_stale_time) and usnet refuses them.
var neighKeys = []neighKey{
	countKey("app_solicit", func(p *neigh.Params) *int { return &p.AppProbes }),
	durKey("base_reachable_time", intMax/hz, time.Second, func(p *neigh.Params) *time.Duration { return &p.BaseReachable }),
	durKey("base_reachable_time_ms", intMax, time.Millisecond, func(p *neigh.Params) *time.Duration { return &p.BaseReachable }),
	durKey("delay_first_probe_time", intMax/hz, time.Second, func(p *neigh.Params) *time.Duration { return &p.DelayFirstProbe }),
	durKey("gc_stale_time", intMax/hz, time.Second, func(p *neigh.Params) *time.Duration { return &p.GCStaleTime }),
	durKey("locktime", intMax, time.Second/userHZ, func(p *neigh.Params) *time.Duration { return &p.LockTime }),
	countKey("mcast_resolicit", func(p *neigh.Params) *int { return &p.MCastReprobes }),
	countKey("mcast_solicit", func(p *neigh.Params) *int { return &p.McastProbes }),
	durKey("retrans_time", intMax, time.Second/userHZ, func(p *neigh.Params) *time.Duration { return &p.RetransTime }),
	durKey("retrans_time_ms", intMax, time.Millisecond, func(p *neigh.Params) *time.Duration { return &p.RetransTime }),
	countKey("ucast_solicit", func(p *neigh.Params) *int { return &p.UcastProbes }),
	{"unres_qlen", 0, intMax / truesizeEth,
		func(p *neigh.Params) int64 { return int64(p.QueueLenBytes) / truesizeEth },
		func(p *neigh.Params, v int64) { p.QueueLenBytes = int(v * truesizeEth) }},
	countKey("unres_qlen_bytes", func(p *neigh.Params) *int { return &p.QueueLenBytes }),
}

// neighName resolves "net.ipv4.neigh.DEV.KEY".
func neighName(n Net, name string) (int, *neighKey, error) {
	rest, ok := strings.CutPrefix(name, neighPrefix)
	if !ok || n.Neigh == nil {
		return 0, nil, syscall.ENOENT
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return 0, nil, syscall.ENOENT
	}
	var k *neighKey
	for j := range neighKeys {
		if neighKeys[j].name == rest[i+1:] {
			k = &neighKeys[j]
		}
	}
	d := n.IPv4.Devices().ByName(strings.ReplaceAll(rest[:i], "/", "."))
	if k == nil || d == nil {
		return 0, nil, syscall.ENOENT
	}
	return d.Ifindex(), k, nil
}

func getNeigh(n Net, name string) (string, error) {
	ifindex, k, err := neighName(n, name)
	if err != nil {
		return "", err
	}
	p := n.Neigh.Params(ifindex)
	return itoa(k.get(&p)), nil
}

func setNeigh(n Net, name, value string) error {
	ifindex, k, err := neighName(n, name)
	if err != nil {
		return err
	}
	p := n.Neigh.Params(ifindex)
	v := []int64{k.get(&p)}
	if err := parseVec(value, v); err != nil {
		return err
	}
	if err := inRange(v, k.lo, k.hi); err != nil {
		return err
	}
	k.set(&p, v[0])
	if err := n.Neigh.SetParams(ifindex, p); err != nil {
		return syscall.EINVAL
	}
	return nil
}

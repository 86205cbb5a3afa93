package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var triestatTotal = regexp.MustCompile(`Total size:\s+(\d+)\s+kB`)

// trieKB sums the "Total size" of every FIB trie in namespace ns.
func trieKB(ns string) (float64, error) {
	out, err := run("ip", "netns", "exec", ns, "cat", "/proc/net/fib_triestat")
	if err != nil {
		return 0, err
	}
	var kb float64
	for _, m := range triestatTotal.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		kb += v
	}
	return kb, nil
}

// kernelFIB inserts the seeded prefixes into a fresh namespace's main
// table with `ip -batch` (one process, one netlink request per route),
// reads the trie's size from /proc/net/fib_triestat, and times lookups
// with RTM_GETROUTE from inside the namespace.
func kernelFIB(n int) Runner {
	return func(env *Env) (Figures, string, error) {
		if err := kernelReady(); err != nil {
			return nil, "", err
		}
		n := fibSize(env, n)
		ns, err := env.newNetns("fib")
		if err != nil {
			return nil, "", err
		}
		for _, s := range [][]string{
			// A veth pair stands in for a dummy device: the dummy module
			// may not be loadable where this runs.
			{"-n", ns, "link", "add", "d0", "type", "veth", "peer", "name", "d1"},
			{"-n", ns, "link", "set", "d1", "up"},
			{"-n", ns, "link", "set", "d0", "up"},
			{"-n", ns, "addr", "add", addrA.String() + "/24", "dev", "d0"},
			{"-n", ns, "route", "add", "default", "dev", "d0"},
		} {
			if err := ip(s...); err != nil {
				return nil, "", err
			}
		}
		prefixes := RandomPrefixes(n)
		var sb strings.Builder
		for _, p := range prefixes {
			fmt.Fprintf(&sb, "route add %s dev d0\n", p)
		}
		batch := filepath.Join(env.Tmp, "routes.batch")
		if err := os.WriteFile(batch, []byte(sb.String()), 0o644); err != nil {
			return nil, "", err
		}
		kb0, err := trieKB(ns)
		if err != nil {
			return nil, "", err
		}
		t0 := time.Now()
		if err := ip("-n", ns, "-batch", batch); err != nil {
			return nil, "", err
		}
		ins := time.Since(t0)
		kb1, err := trieKB(ns)
		if err != nil {
			return nil, "", err
		}
		sb.Reset()
		for _, a := range LookupAddrs(prefixes, 100000) {
			sb.WriteString(a.String() + "\n")
		}
		addrs := filepath.Join(env.Tmp, "lookups.txt")
		if err := os.WriteFile(addrs, []byte(sb.String()), 0o644); err != nil {
			return nil, "", err
		}
		look, err := env.rrpeerIn(ns, "fibget", "-file", addrs, "-budget", Pick(env, 2*time.Second, 200*time.Millisecond).String())
		if err != nil {
			return nil, "", err
		}
		// Free the routes now rather than at the end of the whole run.
		ip("netns", "del", ns)
		return Figures{
				"insert":  float64(ins.Nanoseconds()) / float64(n),
				"lookup":  look["lookup"],
				"memory":  (kb1 - kb0) * 1024 / float64(n),
				"total-s": ins.Seconds(),
			}, fmt.Sprintf("%d routes via `ip -batch` in %.2fs (includes ip's parsing and a netlink round trip per route); lookup = RTM_GETROUTE round trip (%.0f lookups, syscall cost included); memory = fib_triestat trie size only (fib_alias/fib_info slabs not counted)",
				n, ins.Seconds(), look["count"]), nil
	}
}

package sysctl_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

func setup(t *testing.T) (*stack.Namespace, *netdev.Device) {
	t.Helper()
	s, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Add("a")
	b, _ := s.Add("b")
	d, _, err := veth.Create(veth.End{Table: a.Dev, Name: "veth0"}, veth.End{Table: b.Dev, Name: "veth0"})
	if err != nil {
		t.Fatal(err)
	}
	return a, d
}

// TestDefaults: a fresh namespace reads Linux's defaults (those the host
// test cannot compare because the kernel derives them from the host are
// usnet's own: tcp_max_syn_backlog, tcp_max_tw_buckets, tcp_rmem's max).
func TestDefaults(t *testing.T) {
	ns, _ := setup(t)
	want := map[string]string{
		"net.ipv4.ip_forward":                           "0",
		"net.ipv4.ip_default_ttl":                       "64",
		"net.ipv4.ip_local_port_range":                  "32768\t60999",
		"net.ipv4.ping_group_range":                     "1\t0",
		"net.ipv4.ipfrag_high_thresh":                   "4194304",
		"net.ipv4.ipfrag_time":                          "30",
		"net.ipv4.icmp_ratelimit":                       "1000",
		"net.ipv4.icmp_ratemask":                        "6168",
		"net.ipv4.icmp_echo_ignore_broadcasts":          "1",
		"net.ipv4.ip_unprivileged_port_start":           "1024",
		"net.ipv4.tcp_rmem":                             "4096\t131072\t33554432",
		"net.ipv4.tcp_wmem":                             "4096\t16384\t4194304",
		"net.ipv4.tcp_congestion_control":               "cubic",
		"net.ipv4.tcp_available_congestion_control":     "reno cubic",
		"net.ipv4.tcp_syncookies":                       "1",
		"net.ipv4.tcp_ecn":                              "2",
		"net.ipv4.tcp_tw_reuse":                         "2",
		"net.ipv4.tcp_tw_reuse_delay":                   "1000",
		"net.ipv4.tcp_keepalive_time":                   "7200",
		"net.ipv4.tcp_challenge_ack_limit":              "2147483647",
		"net.ipv4.conf.all.accept_source_route":         "0",
		"net.ipv4.conf.default.accept_source_route":     "1",
		"net.ipv4.conf.veth0.accept_source_route":       "1",
		"net.ipv4.conf.default.accept_redirects":        "1",
		"net.ipv4.conf.veth0.rp_filter":                 "0",
		"net.ipv4.conf.lo.forwarding":                   "0",
		"net.ipv4.conf.all.ignore_routes_with_linkdown": "0",
		"net.ipv4.tcp_early_demux":                      "1",
	}
	for k, v := range want {
		got, err := ns.Sysctl(k)
		if err != nil || got != v {
			t.Errorf("%s = %q, %v; want %q", k, got, err, v)
		}
	}
	all := ns.Sysctls()
	for i := 1; i < len(all); i++ {
		if all[i-1].Name >= all[i].Name {
			t.Fatalf("not sorted: %s before %s", all[i-1].Name, all[i].Name)
		}
	}
	for _, e := range all {
		if v, err := ns.Sysctl(e.Name); err != nil || v != e.Value {
			t.Errorf("All has %s = %q, Get %q %v", e.Name, e.Value, v, err)
		}
	}
	if n := len(all); n != 35+4*15+2*13 {
		t.Errorf("%d names", n)
	}
}

// TestParse checks proc_dointvec's syntax.
func TestParse(t *testing.T) {
	ns, _ := setup(t)
	const ttl = "net.ipv4.ip_default_ttl"
	for _, c := range []struct{ in, want string }{
		{"0x40", "64"}, {"077", "63"}, {"64 65", "64"}, {" 61\n", "61"}, {"0X3f", "63"},
	} {
		if err := ns.SetSysctl(ttl, c.in); err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if v, _ := ns.Sysctl(ttl); v != c.want {
			t.Fatalf("%q reads %q, want %q", c.in, v, c.want)
		}
	}
	for _, in := range []string{"", "+62", "63abc", "abc", "0x", "09", "-", "99999999999999999999"} {
		if err := ns.SetSysctl(ttl, in); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%q: %v, want EINVAL", in, err)
		}
	}
}

// TestRanges checks the kernel's ranges and cross-checks, as measured on
// Linux 6.18.
func TestRanges(t *testing.T) {
	ns, _ := setup(t)
	for _, c := range []struct {
		name, in string
		err      error
		after    string
	}{
		{"net.ipv4.ip_default_ttl", "0", syscall.EINVAL, "64"},
		{"net.ipv4.ip_default_ttl", "256", syscall.EINVAL, "64"},
		{"net.ipv4.ip_local_port_range", "1000 2000", syscall.EINVAL, "32768\t60999"},
		{"net.ipv4.ip_local_port_range", "3000 2000", syscall.EINVAL, "32768\t60999"},
		{"net.ipv4.ip_local_port_range", "2000 70000", syscall.EINVAL, "32768\t60999"},
		{"net.ipv4.ip_local_port_range", "2000", nil, "2000\t60999"},
		{"net.ipv4.ip_unprivileged_port_start", "2001", syscall.EINVAL, "1024"},
		{"net.ipv4.ip_unprivileged_port_start", "-1", syscall.EINVAL, "1024"},
		{"net.ipv4.ip_unprivileged_port_start", "0", nil, "0"},
		{"net.ipv4.ip_local_port_range", "5 5", nil, "5\t5"},
		{"net.ipv4.ip_local_port_range", "0 5", syscall.EINVAL, "5\t5"},
		{"net.ipv4.ping_group_range", "5 3", nil, "1\t0"},
		{"net.ipv4.ping_group_range", "0 4294967294", nil, "0\t4294967294"},
		{"net.ipv4.ping_group_range", "0 4294967295", syscall.EINVAL, "0\t4294967294"},
		{"net.ipv4.ping_group_range", "-1 2", syscall.EINVAL, "0\t4294967294"},
		{"net.ipv4.ipfrag_high_thresh", "1000", syscall.EINVAL, "4194304"},
		{"net.ipv4.icmp_ratelimit", "-1", syscall.EINVAL, "1000"},
		{"net.ipv4.icmp_echo_ignore_all", "2", syscall.EINVAL, "0"},
		{"net.ipv4.ip_no_pmtu_disc", "256", syscall.EINVAL, "0"},
		{"net.ipv4.icmp_ratemask", "-1", nil, "-1"},
		{"net.ipv4.tcp_syn_retries", "0", syscall.EINVAL, "6"},
		{"net.ipv4.tcp_syn_retries", "128", syscall.EINVAL, "6"},
		{"net.ipv4.tcp_retries2", "-1", syscall.EINVAL, "15"},
		{"net.ipv4.tcp_keepalive_probes", "256", syscall.EINVAL, "9"},
		{"net.ipv4.tcp_ecn", "3", syscall.EINVAL, "2"},
		{"net.ipv4.tcp_tw_reuse", "3", syscall.EINVAL, "2"},
		{"net.ipv4.tcp_tw_reuse_delay", "0", syscall.EINVAL, "1000"},
		{"net.ipv4.tcp_rmem", "1 2 3", syscall.EINVAL, "4096\t131072\t33554432"},
		{"net.ipv4.tcp_rmem", "4096 8192 6000", nil, "4096\t8192\t6000"},
		{"net.ipv4.tcp_wmem", "4096 65536", nil, "4096\t65536\t4194304"},
		{"net.ipv4.tcp_max_tw_buckets", "-1", nil, "-1"},
		{"net.ipv4.tcp_congestion_control", "foo", syscall.ENOENT, "cubic"},
		{"net.ipv4.tcp_congestion_control", "reno", nil, "reno"},
		{"net.ipv4.tcp_available_congestion_control", "reno", syscall.EACCES, "reno cubic"},
		{"net.ipv4.conf.veth0.rp_filter", "-5", nil, "-5"},
		{"net.ipv4.conf.veth0.proxy_arp", "3", nil, "1"},
		{"net.ipv4.conf.veth0.rp_filter", "2147483648", syscall.EINVAL, "-5"},
	} {
		err := ns.SetSysctl(c.name, c.in)
		if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("%s=%q: %v, want %v", c.name, c.in, err, c.err)
		}
		if v, _ := ns.Sysctl(c.name); v != c.after {
			t.Errorf("%s=%q: reads %q, want %q", c.name, c.in, v, c.after)
		}
	}
	for _, name := range []string{"net.ipv4.foo", "net.ipv4.tcp_fin_timeout", "net.ipv4.conf.nodev.forwarding",
		"net.ipv4.conf.all.foo", "net.ipv4.conf", "net.ipv4.conf.all.mc_forwarding", "net.core.somaxconn"} {
		if _, err := ns.Sysctl(name); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("read %s: %v, want ENOENT", name, err)
		}
		if err := ns.SetSysctl(name, "1"); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("write %s: %v, want ENOENT", name, err)
		}
	}
}

// TestForwarding: ip_forward and conf.all.forwarding set default and every
// device; a device's own write stays its own.
func TestForwarding(t *testing.T) {
	ns, d := setup(t)
	if err := ns.SetSysctl("net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"all", "default", "lo", "veth0"} {
		if v, _ := ns.Sysctl("net.ipv4.conf." + n + ".forwarding"); v != "1" {
			t.Errorf("%s.forwarding = %s", n, v)
		}
	}
	if v, _ := ns.Sysctl("net.ipv4.conf.all.accept_redirects"); v != "0" {
		t.Errorf("all.accept_redirects = %s after ip_forward=1", v)
	}
	var on bool
	ns.Exec().Do(func() { on = ns.IPv4.Forwarding(d.Ifindex()) })
	if !on {
		t.Fatal("device not forwarding")
	}
	ns.SetSysctl("net.ipv4.conf.veth0.forwarding", "0")
	if v, _ := ns.Sysctl("net.ipv4.ip_forward"); v != "1" {
		t.Errorf("ip_forward = %s", v)
	}
	ns.SetSysctl("net.ipv4.conf.all.forwarding", "0")
	if v, _ := ns.Sysctl("net.ipv4.ip_forward"); v != "0" {
		t.Errorf("ip_forward = %s", v)
	}
}

// TestDeviceNames: per-device names follow renames and removal; a '.' in
// a device name is '/' in the sysctl name.
func TestDeviceNames(t *testing.T) {
	ns, d := setup(t)
	var err error
	ns.Exec().Do(func() {
		if err = ns.Dev.Rename(d, "eth0.5"); err != nil {
			return
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Sysctl("net.ipv4.conf.veth0.rp_filter"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("old name: %v", err)
	}
	if err := ns.SetSysctl("net.ipv4.conf.eth0/5.rp_filter", "2"); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range ns.Sysctls() {
		if e.Name == "net.ipv4.conf.eth0/5.rp_filter" && e.Value == "2" {
			found = true
		}
		if strings.Contains(e.Name, "veth0") {
			t.Fatalf("stale name %s", e.Name)
		}
	}
	if !found {
		t.Fatal("renamed device not listed")
	}
	ns.Exec().Do(func() { ns.Dev.Unregister(d) })
	if _, err := ns.Sysctl("net.ipv4.conf.eth0/5.rp_filter"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("after unregister: %v", err)
	}
}

// TestNeigh: net.ipv4.neigh.DEV.* in the kernel's units (seconds,
// milliseconds, USER_HZ ticks, packets of SKB_TRUESIZE(ETH_FRAME_LEN)),
// reaching the device's ARP parameters.
func TestNeigh(t *testing.T) {
	ns, d := setup(t)
	for k, v := range map[string]string{
		"net.ipv4.neigh.veth0.base_reachable_time":    "30",
		"net.ipv4.neigh.veth0.base_reachable_time_ms": "30000",
		"net.ipv4.neigh.veth0.retrans_time":           "100",
		"net.ipv4.neigh.veth0.retrans_time_ms":        "1000",
		"net.ipv4.neigh.veth0.locktime":               "100",
		"net.ipv4.neigh.veth0.unres_qlen":             "101",
		"net.ipv4.neigh.veth0.unres_qlen_bytes":       "212992",
		"net.ipv4.neigh.lo.ucast_solicit":             "3",
		"net.ipv4.neigh.lo.mcast_solicit":             "3",
		"net.ipv4.neigh.lo.delay_first_probe_time":    "5",
		"net.ipv4.neigh.lo.gc_stale_time":             "60",
	} {
		if got, err := ns.Sysctl(k); err != nil || got != v {
			t.Errorf("%s = %q %v, want %q", k, got, err, v)
		}
	}
	for _, c := range []struct{ kv, name, want string }{
		{"unres_qlen=3", "unres_qlen_bytes", "6270"},
		{"retrans_time=7", "retrans_time_ms", "70"},
		{"base_reachable_time_ms=5000", "base_reachable_time", "5"},
		{"ucast_solicit=5", "ucast_solicit", "5"},
	} {
		k, v, _ := strings.Cut(c.kv, "=")
		if err := ns.SetSysctl("net.ipv4.neigh.veth0."+k, v); err != nil {
			t.Fatalf("%s: %v", c.kv, err)
		}
		if got, _ := ns.Sysctl("net.ipv4.neigh.veth0." + c.name); got != c.want {
			t.Errorf("after %s %s = %q, want %q", c.kv, c.name, got, c.want)
		}
	}
	var ucast int
	ns.Exec().Do(func() { ucast = ns.Neigh.Params(d.Ifindex()).UcastProbes })
	if ucast != 5 {
		t.Errorf("neigh table's ucast_solicit %d", ucast)
	}
	if v, _ := ns.Sysctl("net.ipv4.neigh.lo.ucast_solicit"); v != "3" {
		t.Errorf("lo changed with veth0: %s", v)
	}
	if err := ns.SetSysctl("net.ipv4.neigh.veth0.ucast_solicit", "-1"); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("ucast_solicit=-1: %v", err)
	}
	for _, name := range []string{"net.ipv4.neigh.default.gc_thresh1", "net.ipv4.neigh.veth0.proxy_qlen", "net.ipv4.neigh.nodev.locktime"} {
		if _, err := ns.Sysctl(name); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("%s: %v, want ENOENT", name, err)
		}
	}
}

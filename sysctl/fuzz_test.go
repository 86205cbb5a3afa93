package sysctl_test

import (
	"testing"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/stack"
)

// FuzzSet writes arbitrary names and values through the namespace's
// sysctl (stack.Namespace.SetSysctl, as `usnet sysctl -w` passes them
// from a user): nothing panics, and a write that succeeded leaves a name
// that reads back.
func FuzzSet(f *testing.F) {
	for _, c := range [][2]string{
		{"net.ipv4.ip_forward", "1"},
		{"net.ipv4.tcp_rmem", "4096 131072 6291456"},
		{"net.ipv4.ip_local_port_range", "1024\t65535"},
		{"net.ipv4.conf.veth0.rp_filter", "2"},
		{"net.ipv4.conf.all.forwarding", "0x1"},
		{"net.ipv4.tcp_congestion_control", "reno"},
		{"net.ipv4.neigh.veth0.base_reachable_time_ms", "30000"},
		{"net.ipv4.ping_group_range", "0 2147483647"},
		{"net.ipv4.icmp_ratemask", "-1"},
		{"net.ipv4.ipfrag_time", "99999999999999999999"},
	} {
		f.Add(c[0], c[1])
	}
	s, err := stack.NewSim(1)
	if err != nil {
		f.Fatal(err)
	}
	a, _ := s.Add("a")
	b, _ := s.Add("b")
	if _, _, err := veth.Create(veth.End{Table: a.Dev, Name: "veth0"}, veth.End{Table: b.Dev, Name: "veth0"}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if err := a.SetSysctl(name, value); err != nil {
			return
		}
		if _, err := a.Sysctl(name); err != nil {
			t.Fatalf("%s=%q written, then reading it: %v", name, value, err)
		}
	})
}

package daemon

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/usnet/usnet/drivers/dummy"
)

// TestSysctlOverDaemon: administrators read and write, others read and
// get EPERM for writes (ENOENT and EACCES first, as open(2) answers
// them); the namespace argument and the errors cross the socket.
func TestSysctlOverDaemon(t *testing.T) {
	srv := startDaemonAs(t, peer{uid: 0, gid: 0}, -1)
	if _, err := srv.Stack.Add("r"); err != nil {
		t.Fatal(err)
	}
	p := srv.Path()
	if err := SetSysctl(p, "r", "net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	if v, err := Sysctl(p, "r", "net.ipv4.ip_forward"); err != nil || v != "1" {
		t.Fatalf("r ip_forward %q %v", v, err)
	}
	if v, _ := Sysctl(p, "", "net.ipv4.ip_forward"); v != "0" {
		t.Fatalf("default ip_forward %q", v)
	}
	if v, err := Sysctl(p, "r", "net.ipv4.ip_local_port_range"); err != nil || v != "32768\t60999" {
		t.Fatalf("port range %q %v", v, err)
	}
	all, err := Sysctls(p, "r")
	if err != nil || len(all) < 40 {
		t.Fatalf("all: %d entries, %v", len(all), err)
	}
	for _, e := range all {
		if e.Name == "net.ipv4.conf.lo.forwarding" && e.Value != "1" {
			t.Errorf("lo forwarding %q", e.Value)
		}
	}
	for _, c := range []struct {
		ns, name, value string
		want            error
	}{
		{"r", "net.ipv4.foo", "1", syscall.ENOENT},
		{"r", "net.ipv4.ip_default_ttl", "0", syscall.EINVAL},
		{"r", "net.ipv4.tcp_available_congestion_control", "reno", syscall.EACCES},
		{"nope", "net.ipv4.ip_forward", "1", syscall.ENOENT},
	} {
		if err := SetSysctl(p, c.ns, c.name, c.value); !errors.Is(err, c.want) {
			t.Errorf("%s %s=%s: %v, want %v", c.ns, c.name, c.value, err, c.want)
		}
	}

	ro := startDaemonAs(t, peer{uid: 65534, gid: 65534}, -1)
	if v, err := Sysctl(ro.Path(), "", "net.ipv4.ip_default_ttl"); err != nil || v != "64" {
		t.Fatalf("nobody reads %q %v", v, err)
	}
	if _, err := Sysctls(ro.Path(), ""); err != nil {
		t.Fatalf("nobody reads all: %v", err)
	}
	for name, want := range map[string]error{
		"net.ipv4.ip_forward": syscall.EPERM,
		"net.ipv4.foo":        syscall.ENOENT,
		"net.ipv4.tcp_available_congestion_control": syscall.EACCES,
	} {
		if err := SetSysctl(ro.Path(), "", name, "1"); !errors.Is(err, want) {
			t.Errorf("nobody writes %s: %v, want %v", name, err, want)
		}
	}
	if v, _ := Sysctl(ro.Path(), "", "net.ipv4.ip_forward"); v != "0" {
		t.Errorf("refused write took effect: %q", v)
	}
}

// TestSysctlsManyDevices: a listing larger than one datagram arrives
// whole.
func TestSysctlsManyDevices(t *testing.T) {
	srv := startDaemonAs(t, peer{uid: 0, gid: 0}, -1)
	ns := srv.Stack.Default()
	var err error
	ns.Exec().Do(func() {
		for i := 0; i < 40 && err == nil; i++ {
			_, err = dummy.New(ns.Dev, fmt.Sprintf("dummy%d", i))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	all, err := Sysctls(srv.Path(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := ns.Sysctls()
	if len(all) != len(want) || len(want) < 1000 {
		t.Fatalf("%d entries over the daemon, %d in the namespace", len(all), len(want))
	}
	for i := range want {
		if all[i] != want[i] {
			t.Fatalf("entry %d: %v, want %v", i, all[i], want[i])
		}
	}
}

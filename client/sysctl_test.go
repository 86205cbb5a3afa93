package client

import (
	"errors"
	"syscall"
	"testing"

	"github.com/usnet/usnet/rtnl"
)

// TestSysctl: the same calls in process and over the daemon, with the
// RTM_NEWNETCONF a write causes reaching a subscriber.
func TestSysctl(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		if err := c.AddNamespace("r"); err != nil {
			t.Fatal(err)
		}
		r := c.Namespace("r")
		if err := r.SetSysctl("net.ipv4.ip_forward", "1"); err != nil {
			t.Fatal(err)
		}
		if v, err := r.Sysctl("net.ipv4.conf.lo.forwarding"); err != nil || v != "1" {
			t.Fatalf("lo forwarding %q %v", v, err)
		}
		all, err := r.Sysctls()
		if err != nil || len(all) == 0 || all[0].Name > all[len(all)-1].Name {
			t.Fatalf("Sysctls: %v %v", all, err)
		}
		if err := r.SetSysctl("net.ipv4.ip_default_ttl", "300"); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("ttl 300: %v", err)
		}
		if _, err := r.Sysctl("net.ipv4.nope"); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("unknown: %v", err)
		}
		if _, err := c.Namespace("nope").Sysctl("net.ipv4.ip_forward"); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("unknown namespace: %v", err)
		}
	})
}

func TestSysctlNotAdmin(t *testing.T) {
	c := newInProcess(t, WithCred(rtnl.Cred{UID: 65534}))
	ns := c.Namespace("")
	if v, err := ns.Sysctl("net.ipv4.ip_forward"); err != nil || v != "0" {
		t.Fatalf("read %q %v", v, err)
	}
	if err := ns.SetSysctl("net.ipv4.ip_forward", "1"); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("write: %v, want EPERM", err)
	}
}

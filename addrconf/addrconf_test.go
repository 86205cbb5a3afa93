package addrconf

import (
	"errors"
	"syscall"
	"testing"

	"github.com/usnet/usnet/drivers/dummy"
	"github.com/usnet/usnet/stack"
)

func TestAddrGenMode(t *testing.T) {
	s, _ := stack.NewSim(1)
	ns, err := s.Add("a")
	if err != nil {
		t.Fatal(err)
	}
	devs := ns.Dev
	d, err := dummy.New(devs, "d0")
	if err != nil {
		t.Fatal(err)
	}
	tb := For(devs)
	if For(devs) != tb {
		t.Fatal("For made a second table for the same namespace")
	}
	if m := tb.AddrGenMode(d); m != AddrGenEUI64 {
		t.Fatalf("default mode %d, want eui64", m)
	}
	if err := tb.SetAddrGenMode(d, AddrGenNone); err != nil {
		t.Fatal(err)
	}
	if m := tb.AddrGenMode(d); m != AddrGenNone {
		t.Fatalf("mode %d after set none", m)
	}
	for _, m := range []AddrGenMode{AddrGenStablePrivacy, 4, 255} {
		if err := tb.SetAddrGenMode(d, m); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("mode %d: %v, want EINVAL", m, err)
		}
	}
	if m := tb.AddrGenMode(d); m != AddrGenNone {
		t.Fatalf("a refused set changed the mode to %d", m)
	}
	// The setting dies with the device, as an inet6_dev does.
	idx := d.Ifindex()
	devs.Unregister(d)
	if len(tb.modes) != 0 {
		t.Fatalf("mode of unregistered ifindex %d kept", idx)
	}
}

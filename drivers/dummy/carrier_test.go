package dummy_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/dummy"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

// TestNoCarrierEvents: drivers/net/dummy.c never calls netif_carrier_on
// or off (this kernel has no dummy module to compare with live), so
// linkwatch never runs for a dummy: up and down raise UP and DOWN only,
// never CHANGE, and it is UNKNOWN with LOWER_UP whenever it is up.
func TestNoCarrierEvents(t *testing.T) {
	s, _ := stack.NewSim(1)
	ns, _ := s.Add("x")
	var evs []netdev.Event
	var d *netdev.Device
	ns.Exec().Do(func() {
		ns.Dev.Subscribe(func(ev netdev.Event, x *netdev.Device) {
			if x == d && (ev == netdev.EventUp || ev == netdev.EventDown || ev == netdev.EventChange) {
				evs = append(evs, ev)
			}
		})
		d, _ = dummy.New(ns.Dev, "dummy0")
	})
	for range 2 {
		ns.Exec().Do(func() { d.Up() })
		s.Sim.RunFor(time.Second)
		ns.Exec().Do(func() {
			if d.OperState() != netdev.OperUnknown || !d.Carrier() || d.Flags()&netdev.FlagLowerUp == 0 {
				t.Fatalf("up: %v carrier %v flags %#x", d.OperState(), d.Carrier(), d.Flags())
			}
			d.Down()
		})
		s.Sim.RunFor(time.Second)
	}
	want := []netdev.Event{netdev.EventUp, netdev.EventDown, netdev.EventUp, netdev.EventDown}
	if len(evs) != len(want) {
		t.Fatalf("events %v, want %v", evs, want)
	}
	for i := range want {
		if evs[i] != want[i] {
			t.Fatalf("events %v, want %v", evs, want)
		}
	}
}

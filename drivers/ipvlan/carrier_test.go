package ipvlan_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/ipvlan"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

// TestCarrierFollowsLower checks the slave's carrier against
// drivers/net/ipvlan (this kernel has no ipvlan module to compare with
// live):
//   - ipvlan_init copies the lower's carrier and ipvlan_link_new
//     transfers it without a linkwatch run, so a slave made on a live
//     lower is UNKNOWN when opened, until the lower's carrier changes;
//   - ipvlan_open and ipvlan_stop leave the carrier alone;
//   - the lower's NETDEV_UP, NETDEV_DOWN and NETDEV_CHANGE copy its
//     carrier to the slave, up or down (netif_stacked_transfer_operstate),
//     through linkwatch: the slave is announced in the run after the
//     lower's.
func TestCarrierFollowsLower(t *testing.T) {
	s, _ := stack.NewSim(1)
	a, _ := s.Add("a")
	var log []string
	var err error
	a.Exec().Do(func() {
		a.Dev.Subscribe(func(ev netdev.Event, d *netdev.Device) {
			if ev == netdev.EventUp || ev == netdev.EventDown || ev == netdev.EventChange {
				log = append(log, fmt.Sprintf("%v %s %v", ev, d.Name(), d.OperState()))
			}
		})
	})
	ea, eb, err := veth.Create(veth.End{Table: a.Dev, Name: "ea"}, veth.End{Table: a.Dev, Name: "eb"})
	if err != nil {
		t.Fatal(err)
	}
	step := func(f func()) string {
		log = nil
		a.Exec().Do(f)
		s.Sim.RunFor(time.Millisecond)
		return strings.Join(log, ", ")
	}
	step(func() { ea.Up(); eb.Up() })
	var v *netdev.Device
	a.Exec().Do(func() { v, err = ipvlan.New(ipvlan.Config{Name: "ipv0", Lower: ea}) })
	if err != nil {
		t.Fatal(err)
	}
	s.Sim.RunFor(time.Millisecond)
	for _, c := range []struct {
		what string
		f    func()
		want string
	}{
		{"slave up", func() { v.Up() }, "UP ipv0 UNKNOWN"},
		{"slave down", func() { v.Down() }, "DOWN ipv0 DOWN"},
		{"slave up again", func() { v.Up() }, "UP ipv0 UNKNOWN"},
		{"peer down", func() { eb.Down() }, "DOWN eb DOWN, CHANGE ea LOWERLAYERDOWN, CHANGE ipv0 LOWERLAYERDOWN"},
		{"peer up", func() { eb.Up() }, "UP eb LOWERLAYERDOWN, CHANGE eb UP, CHANGE ea UP, CHANGE ipv0 UP"},
		// The slave stays up, without carrier, while its lower is down.
		{"lower down", func() { ea.Down() }, "DOWN ea DOWN, CHANGE eb LOWERLAYERDOWN, CHANGE ipv0 LOWERLAYERDOWN"},
		{"lower up", func() { ea.Up() }, "UP ea LOWERLAYERDOWN, CHANGE ea UP, CHANGE eb UP, CHANGE ipv0 UP"},
	} {
		if got := step(c.f); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.what, got, c.want)
		}
	}
}

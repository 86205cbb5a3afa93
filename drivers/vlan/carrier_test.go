package vlan_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/drivers/vlan"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

// TestCarrierFollowsLower checks the vlan's carrier against net/8021q
// (this kernel has no 8021q module to compare with live):
//   - vlan_dev_init copies the lower's carrier and register_vlan_dev
//     transfers it and fires linkwatch, so a vlan made on a live lower
//     is UP as soon as it is opened;
//   - vlan_dev_stop drops the carrier and vlan_dev_open raises it when
//     the lower has it, both through linkwatch;
//   - the lower's NETDEV_CHANGE copies its carrier
//     (vlan_stacked_transfer_operstate) through linkwatch, so the vlan
//     is announced in the run after the one that announced the lower;
//   - the lower going down takes the vlan down (vlan_device_event,
//     NETDEV_DOWN, without loose binding) and back up with it.
func TestCarrierFollowsLower(t *testing.T) {
	s, _ := stack.NewSim(1)
	a, _ := s.Add("a")
	var log []string
	var ea, eb, v *netdev.Device
	var err error
	a.Exec().Do(func() {
		a.Dev.Subscribe(func(ev netdev.Event, d *netdev.Device) {
			if ev == netdev.EventUp || ev == netdev.EventDown || ev == netdev.EventChange {
				log = append(log, fmt.Sprintf("%v %s %v", ev, d.Name(), d.OperState()))
			}
		})
	})
	ea, eb, err = veth.Create(veth.End{Table: a.Dev, Name: "ea"}, veth.End{Table: a.Dev, Name: "eb"})
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
	a.Exec().Do(func() { v, err = vlan.New(vlan.Config{Name: "ea.5", Lower: ea, ID: 5}) })
	if err != nil {
		t.Fatal(err)
	}
	s.Sim.RunFor(time.Millisecond)
	for _, c := range []struct {
		what string
		f    func()
		want string
	}{
		{"vlan up", func() { v.Up() }, "UP ea.5 UP"},
		{"vlan down", func() { v.Down() }, "DOWN ea.5 DOWN"},
		// Opened again: LOWER_UP in the request, the state it kept
		// (DOWN, from the run after the stop), then UP from linkwatch.
		{"vlan up again", func() { v.Up() }, "UP ea.5 DOWN, CHANGE ea.5 UP"},
		{"peer down", func() { eb.Down() }, "DOWN eb DOWN, CHANGE ea LOWERLAYERDOWN, CHANGE ea.5 LOWERLAYERDOWN"},
		{"peer up", func() { eb.Up() }, "UP eb LOWERLAYERDOWN, CHANGE eb UP, CHANGE ea UP, CHANGE ea.5 UP"},
		// The lower is announced first (__dev_notify_flags sends its
		// RTM_NEWLINK before NETDEV_DOWN reaches the vlan driver); both
		// come back with the state linkwatch gave them while down.
		{"lower down", func() { ea.Down() }, "DOWN ea DOWN, DOWN ea.5 DOWN, CHANGE eb LOWERLAYERDOWN"},
		{"lower up", func() { ea.Up() }, "UP ea LOWERLAYERDOWN, UP ea.5 LOWERLAYERDOWN, CHANGE ea UP, CHANGE eb UP, CHANGE ea.5 UP"},
	} {
		if got := step(c.f); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.what, got, c.want)
		}
	}
}

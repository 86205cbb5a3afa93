package bond_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/bond"
	"github.com/usnet/usnet/netdev"
)

// TestCarrierFromSlaves checks the bond's carrier against
// drivers/net/bonding (no bonding module on this kernel to compare with
// live): bond_set_carrier turns it on while a slave's link is up and off
// when none is, with netif_carrier_on/off, so the state and the
// RTM_NEWLINK come from linkwatch, after the run that announced the
// slave whose loss the MII monitor noticed.
func TestCarrierFromSlaves(t *testing.T) {
	r := newRig(t, bond.Params{Mode: bond.ModeActiveBackup, Miimon: 100})
	var log []string
	r.a.Exec().Do(func() {
		r.a.Dev.Subscribe(func(ev netdev.Event, d *netdev.Device) {
			if ev == netdev.EventChange {
				log = append(log, fmt.Sprintf("%s %v lower=%v", d.Name(), d.OperState(), d.Flags()&netdev.FlagLowerUp != 0))
			}
		})
	})
	var st netdev.OperState
	r.a.Exec().Do(func() { st = r.bd.OperState() })
	if st != netdev.OperUp {
		t.Fatalf("bond with live slaves: %v", st)
	}
	step := func(f func()) string {
		log = nil
		r.b.Exec().Do(f)
		r.s.Sim.RunFor(time.Second)
		return strings.Join(log, ", ")
	}
	// The peers are in another namespace: the slaves go DOWN, not
	// LOWERLAYERDOWN (see netdev.noCarrierState).
	want := "eth0 DOWN lower=false, eth1 DOWN lower=false, bond0 DOWN lower=false"
	if got := step(func() { r.peers[0].Down(); r.peers[1].Down() }); got != want {
		t.Errorf("slaves lost:\n got %s\nwant %s", got, want)
	}
	want = "eth1 UP lower=true, bond0 UP lower=true"
	if got := step(func() { r.peers[1].Up() }); got != want {
		t.Errorf("a slave back:\n got %s\nwant %s", got, want)
	}
}

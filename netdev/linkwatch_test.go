package netdev_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/stack"
)

// lwEnv is one simulated namespace whose device events are logged.
type lwEnv struct {
	s   *stack.Stack
	ns  *stack.Namespace
	log []string
}

func newLWEnv(t *testing.T) *lwEnv {
	t.Helper()
	s, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := s.Add("a")
	if err != nil {
		t.Fatal(err)
	}
	e := &lwEnv{s: s, ns: ns}
	ns.Exec().Do(func() {
		ns.Dev.Subscribe(func(ev netdev.Event, d *netdev.Device) {
			e.log = append(e.log, fmt.Sprintf("%v %s oper=%v lower=%v", ev, d.Name(), d.OperState(), d.Flags()&netdev.FlagLowerUp != 0))
		})
	})
	return e
}

func (e *lwEnv) add(t *testing.T, name string, carrier bool) *netdev.Device {
	t.Helper()
	var d *netdev.Device
	var err error
	e.ns.Exec().Do(func() {
		d, err = e.ns.Dev.Register(netdev.Config{Name: name, MTU: 1500, MinMTU: 68, MaxMTU: 9000,
			Type: netdev.ARPHRDEther, ManagesCarrier: carrier}, nicDriver{}, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// do runs f on the executor and returns the events it raised; run lets
// posted work (a linkwatch run) happen and returns its events.
func (e *lwEnv) do(f func()) string {
	e.log = nil
	e.ns.Exec().Do(f)
	return strings.Join(e.log, "; ")
}

func (e *lwEnv) run() string {
	e.log = nil
	e.s.Sim.RunFor(time.Millisecond)
	return strings.Join(e.log, "; ")
}

// TestLinkwatchDefersOperState: SetCarrierLinkwatch changes LOWER_UP at
// once and the operational state in a later run, which raises CHANGE
// for every queued device that is up, in the order their events came,
// and nothing for one that is down (linkwatch_do_dev).
func TestLinkwatchDefersOperState(t *testing.T) {
	e := newLWEnv(t)
	a, b := e.add(t, "a0", true), e.add(t, "b0", true)
	e.do(func() { a.Up(); b.Up() })
	e.run()
	if got := e.do(func() { b.SetCarrierLinkwatch(true); a.SetCarrierLinkwatch(true) }); got != "" {
		t.Errorf("carrier change raised %q before linkwatch ran", got)
	}
	if a.Flags()&netdev.FlagLowerUp == 0 || a.OperState() != netdev.OperDown {
		t.Errorf("before the run: flags %v oper %v, want LOWER_UP and the old state DOWN", a.Flags(), a.OperState())
	}
	if got, want := e.run(), "CHANGE b0 oper=UP lower=true; CHANGE a0 oper=UP lower=true"; got != want {
		t.Errorf("linkwatch run: %q, want %q", got, want)
	}
	// A down device's state is recomputed (and kept), not announced.
	e.do(func() { a.Down() })
	e.do(func() { a.SetCarrierLinkwatch(false); b.SetCarrierLinkwatch(false) })
	if got, want := e.run(), "CHANGE b0 oper=DOWN lower=false"; got != want {
		t.Errorf("linkwatch run: %q, want %q", got, want)
	}
	// A device queued twice is handled once; one unregistered meanwhile
	// not at all.
	e.do(func() { b.SetCarrierLinkwatch(true); b.SetCarrierLinkwatch(false); b.SetCarrierLinkwatch(true) })
	if got, want := e.run(), "CHANGE b0 oper=UP lower=true"; got != want {
		t.Errorf("linkwatch run: %q, want %q", got, want)
	}
	e.do(func() { b.SetCarrierLinkwatch(false); e.ns.Dev.Unregister(b) })
	if got := e.run(); got != "" {
		t.Errorf("linkwatch ran for an unregistered device: %q", got)
	}
}

// TestOperStateKeptWhileDown: a device that never reports carrier keeps
// the operational state userspace gave it while it is down, and may be
// given one while down, reported DOWN until it comes back up. Checked
// on Linux 6.18 with loopback and ifb (`ip link set lo state dormant`,
// down, up: DORMANT; `state up`, down, up: UP; down, `state dormant`,
// up: DORMANT), as set_operstate and the absence of linkwatch runs for
// such a device make it.
func TestOperStateKeptWhileDown(t *testing.T) {
	e := newLWEnv(t)
	d := e.add(t, "lo0", false)
	step := func(what string, f func(), want netdev.OperState) {
		t.Helper()
		e.do(f)
		e.run()
		if got := d.OperState(); got != want {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	step("up", func() { d.Up() }, netdev.OperUnknown)
	step("state dormant", func() { d.SetOperState(netdev.OperDormant) }, netdev.OperDormant)
	step("down", func() { d.Down() }, netdev.OperDown)
	step("up", func() { d.Up() }, netdev.OperDormant)
	step("state up", func() { d.SetOperState(netdev.OperUp) }, netdev.OperUp)
	step("down", func() { d.Down() }, netdev.OperDown)
	step("up", func() { d.Up() }, netdev.OperUp)
	step("down, state dormant", func() { d.Down(); d.SetOperState(netdev.OperDormant) }, netdev.OperDown)
	step("up", func() { d.Up() }, netdev.OperDormant)
	step("state testing (refused from DORMANT)", func() { d.SetOperState(netdev.OperTesting) }, netdev.OperDormant)
}

// TestCarrierOnStaysUnknown: a carrier-reporting device registered with
// its carrier on (a bridge, a macvlan) is UNKNOWN, also once up, until
// linkwatch first runs for it (linkwatch_init_dev runs the policy only
// for a device without carrier, dev_open not at all); after the first
// run it follows the carrier as any other.
func TestCarrierOnStaysUnknown(t *testing.T) {
	e := newLWEnv(t)
	var d *netdev.Device
	e.ns.Exec().Do(func() {
		var err error
		d, err = e.ns.Dev.Register(netdev.Config{Name: "br0", MTU: 1500, MinMTU: 68, MaxMTU: 9000,
			Type: netdev.ARPHRDEther, ManagesCarrier: true, CarrierOn: true}, nicDriver{}, 0)
		if err != nil {
			t.Fatal(err)
		}
	})
	if got := e.do(func() { d.Up() }); got != "UP br0 oper=UNKNOWN lower=true" {
		t.Fatalf("up: %q", got)
	}
	if !d.OperUp() {
		t.Fatal("OperUp false for an UNKNOWN device that is up")
	}
	e.do(func() { d.Down() })
	if got := e.do(func() { d.Up() }); got != "UP br0 oper=UNKNOWN lower=true" {
		t.Fatalf("up again: %q", got)
	}
	if got := e.do(func() { d.SetCarrierLinkwatch(false) }) + "|" + e.run(); got != "|CHANGE br0 oper=DOWN lower=false" {
		t.Fatalf("carrier off: %q", got)
	}
	if d.OperUp() {
		t.Fatal("OperUp true for a DOWN device")
	}
	if got := e.do(func() { d.SetCarrierLinkwatch(true) }) + "|" + e.run(); got != "|CHANGE br0 oper=UP lower=true" {
		t.Fatalf("carrier on: %q", got)
	}
}

// TestPromiscNotifies: every promiscuity change is announced
// (__dev_set_promiscuity → __dev_notify_flags), whether the count
// crosses zero or not, and whether the device is up or not.
func TestPromiscNotifies(t *testing.T) {
	e := newLWEnv(t)
	d := e.add(t, "eth0", false)
	for _, inc := range []int{1, 1, -1, -1} {
		if got := e.do(func() { d.SetPromisc(inc) }); got != "RX_FLAGS eth0 oper=DOWN lower=true" {
			t.Fatalf("SetPromisc(%d): %q", inc, got)
		}
	}
}

package dummy_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/usnet/usnet/drivers/dummy"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

func TestDummy(t *testing.T) {
	s, _ := stack.NewSim(1)
	ns, _ := s.Add("x")
	d, err := dummy.New(ns.Dev, "dummy%d")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "dummy0" || d.Kind() != "dummy" || d.Addr()[0]&3 != 2 {
		t.Fatalf("name %s kind %s mac %x", d.Name(), d.Kind(), d.Addr())
	}
	if d.OperState() != netdev.OperDown {
		t.Fatalf("new dummy: %v", d.OperState())
	}
	d.Up()
	// Linux: <BROADCAST,NOARP,UP,LOWER_UP> state UNKNOWN.
	want := netdev.FlagBroadcast | netdev.FlagNoARP | netdev.FlagUp | netdev.FlagLowerUp | netdev.FlagRunning
	if d.Flags() != want || d.OperState() != netdev.OperUnknown {
		t.Fatalf("up dummy: flags %#x oper %v", d.Flags(), d.OperState())
	}
	bt := skb.NewBatch(1)
	bt.Add(s.Pool().GetData(make([]byte, 60)))
	d.Xmit(bt)
	if d.Stats.TxPackets != 1 || s.Pool().Live() != 0 {
		t.Fatalf("tx %d live %d", d.Stats.TxPackets, s.Pool().Live())
	}
}

func TestDeviceSettings(t *testing.T) {
	s, _ := stack.NewSim(1)
	ns, _ := s.Add("x")
	d, _ := dummy.New(ns.Dev, "d0")
	var events []netdev.Event
	ns.Dev.Subscribe(func(ev netdev.Event, _ *netdev.Device) { events = append(events, ev) })
	if err := d.SetMTU(9000); err != nil || d.MTU() != 9000 {
		t.Fatalf("SetMTU: %v", err)
	}
	if err := d.SetMTU(70000); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("MTU over max: %v", err)
	}
	if err := d.SetAddr([6]byte{1, 2, 3, 4, 5, 6}); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Fatalf("multicast MAC: %v", err)
	}
	if err := d.SetAddr([6]byte{2, 2, 3, 4, 5, 6}); err != nil {
		t.Fatal(err)
	}
	if err := ns.Dev.Rename(d, "renamed"); err != nil || ns.Dev.ByName("renamed") != d || ns.Dev.ByName("d0") != nil {
		t.Fatalf("rename: %v", err)
	}
	d.Up()
	if err := ns.Dev.Rename(d, "again"); !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("rename while up: %v", err)
	}
	if err := d.SetAlias("uplink"); err != nil || d.Alias() != "uplink" {
		t.Fatal(err)
	}
	d.SetFlags(netdev.FlagPromisc, netdev.FlagPromisc)
	if d.Flags()&netdev.FlagPromisc == 0 {
		t.Fatal("PROMISC not set")
	}
	want := []netdev.Event{netdev.EventChangeMTU, netdev.EventChangeAddr, netdev.EventChangeName, netdev.EventUp, netdev.EventChange, netdev.EventChange}
	if len(events) != len(want) {
		t.Fatalf("events %v, want %v", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Fatalf("events %v, want %v", events, want)
		}
	}
}

package bridge_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// FuzzBridgeReceive feeds arbitrary frames to a port of a bridge with STP
// and VLAN filtering on: nothing may panic and every buffer must come
// back to the pool (the sinks free what they are given).
func FuzzBridgeReceive(f *testing.F) {
	bpdu := []byte{0x01, 0x80, 0xc2, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 38, 0x42, 0x42, 0x03, 0, 0, 0, 0, 0,
		0x10, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0x10, 0, 2, 0, 0, 0, 0, 0, 0x80, 1, 0, 1, 0x14, 0, 2, 0, 0x0f, 0}
	tagged := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x81, 0, 0, 10, 0x08, 0x06, 1, 2, 3}
	f.Add(bpdu, uint8(0))
	f.Add(tagged, uint8(1))
	f.Add([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00}, uint8(2))
	f.Add([]byte{0x01, 0x80, 0xc2, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 7, 0x42, 0x42, 0x03, 0, 0, 0, 0x80}, uint8(3))
	f.Fuzz(func(t *testing.T, frame []byte, port uint8) {
		s, _ := stack.NewSim(1)
		ns, _ := s.Add("sw")
		br, err := bridge.New(ns.Dev, "br0")
		if err != nil {
			t.Fatal(err)
		}
		br.SetSTP(true)
		br.SetVlanFiltering(true)
		var ports []*netdev.Device
		for i := range 3 {
			d, err := ns.Dev.Register(netdev.Config{Name: "p%d", MTU: 1500, MaxMTU: 65535,
				Addr: mac(0x300000 + i), Broadcast: netdev.BroadcastMAC, Type: netdev.ARPHRDEther}, &sink{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := br.AddPort(d); err != nil {
				t.Fatal(err)
			}
			d.Up()
			ports = append(ports, d)
		}
		br.VlanAdd(ports[1], 10, false, false)
		br.Device().Up()
		s.Sim.RunFor(40 * time.Second) // ports reach forwarding
		pool := ns.Dev.Pool()
		bt := skb.NewBatch(1)
		for range 2 {
			b := pool.Get(skb.DefaultHeadroom, len(frame))
			copy(b.Put(len(frame)), frame)
			bt.Add(b)
			ports[int(port)%len(ports)].Receive(bt)
		}
		s.Sim.RunFor(time.Second)
		ns.Dev.Unregister(br.Device())
		s.Sim.RunFor(time.Second)
		if n := pool.Live(); n != 0 {
			t.Fatalf("%d buffers leaked", n)
		}
	})
}

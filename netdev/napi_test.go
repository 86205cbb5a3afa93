package netdev_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/usnet/usnet/offload"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// nicDriver is a host-backend-like driver: frames arrive through NAPI.
type nicDriver struct{}

func (nicDriver) Kind() string                         { return "nic" }
func (nicDriver) Open(*netdev.Device) error            { return nil }
func (nicDriver) Stop(*netdev.Device)                  {}
func (nicDriver) Xmit(_ *netdev.Device, bt *skb.Batch) { bt.Free() }
func (nicDriver) Uninit(*netdev.Device)                {}

// tcpFrame is an Ethernet/IPv4/TCP segment of a flow with valid checksums.
func tcpFrame(dst [6]byte, seq uint32, id uint16, payload []byte) []byte {
	f := make([]byte, 14+20+20+len(payload))
	copy(f[0:6], dst[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+20+len(payload)))
	binary.BigEndian.PutUint16(ip[4:], id)
	binary.BigEndian.PutUint16(ip[6:], 0x4000)
	ip[8], ip[9] = 64, 6
	copy(ip[12:], []byte{10, 9, 0, 2})
	copy(ip[16:], []byte{10, 9, 0, 1})
	binary.BigEndian.PutUint16(ip[10:], header.Checksum(ip[:20]))
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp[0:], 40000)
	binary.BigEndian.PutUint16(tcp[2:], 80)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], 1)
	tcp[12] = 5 << 4
	tcp[13] = 0x10 // ACK
	binary.BigEndian.PutUint16(tcp[14:], 1000)
	copy(tcp[20:], payload)
	var ps [12]byte
	copy(ps[0:4], ip[12:16])
	copy(ps[4:8], ip[16:20])
	ps[9] = 6
	binary.BigEndian.PutUint16(ps[10:], uint16(len(tcp)))
	sum := header.Checksum(append(ps[:], tcp...))
	binary.BigEndian.PutUint16(tcp[16:], sum)
	return f
}

// TestNAPICoalescesWithGRO: a device with the GRO feature hands the stack
// one super-packet for back-to-back segments of a flow, and counts every
// frame it received; without the feature the segments pass one by one.
func TestNAPICoalescesWithGRO(t *testing.T) {
	for _, gro := range []bool{true, false} {
		s, err := stack.NewSim(1)
		if err != nil {
			t.Fatal(err)
		}
		ns, _ := s.Add("a")
		var d *netdev.Device
		var napi *netdev.NAPI
		ns.Exec().Do(func() {
			d, err = ns.Dev.Register(netdev.Config{Name: "nic0", MTU: 1500, MinMTU: 68, MaxMTU: 9000,
				Addr: [6]byte{2, 0, 0, 0, 0, 1}, Broadcast: netdev.BroadcastMAC, Type: netdev.ARPHRDEther,
				Flags: netdev.FlagBroadcast, Features: netdev.Features{GRO: gro}}, nicDriver{}, 0)
			if err == nil {
				napi = netdev.NewNAPI(d)
				if gro {
					napi.GRO = &offload.GRO{}
				}
				err = d.Up()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []int // IP total lengths the stack saw
		var gso []uint16
		ns.Dev.AddProtocol(0x0800, func(_ *netdev.Device, bt *skb.Batch) {
			for _, b := range bt.Bufs() {
				got = append(got, int(binary.BigEndian.Uint16(b.Bytes()[2:])))
				gso = append(gso, b.GSOSize)
				b.Free()
			}
			bt.Reset()
		})
		payload := make([]byte, 1000)
		bt := skb.NewBatch(8)
		for i := range 4 {
			f := tcpFrame(d.Addr(), 1+uint32(i*1000), uint16(100+i), payload)
			b := s.Pool().Get(skb.DefaultHeadroom, len(f))
			copy(b.Put(len(f)), f)
			bt.Add(b)
		}
		napi.Enqueue(bt)
		s.Sim.RunFor(time.Millisecond)
		if d.Stats.RxPackets != 4 {
			t.Errorf("gro=%v: rx_packets %d, want 4", gro, d.Stats.RxPackets)
		}
		if gro {
			if len(got) != 1 || got[0] != 40+4000 || gso[0] != 1000 {
				t.Errorf("gro on: stack saw lengths %v gso %v, want one 4040-byte super-packet with gso 1000", got, gso)
			}
		} else if len(got) != 4 {
			t.Errorf("gro off: stack saw %d packets, want 4", len(got))
		}
	}
}

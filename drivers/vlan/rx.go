package vlan

import (
	"encoding/binary"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"golang.org/x/sys/unix"
)

// group is the set of vlans on one lower device (struct vlan_group): it
// owns the lower device's receive hook.
type group struct {
	lower *netdev.Device
	byKey map[uint32]*Dev // protocol<<16 | vid
	order []*Dev          // creation order, for events
}

func key(proto, vid uint16) uint32 { return uint32(proto)<<16 | uint32(vid) }

func (g *group) find(proto, vid uint16) *Dev { return g.byKey[key(proto, vid)] }

func (g *group) add(v *Dev) {
	g.byKey[key(v.proto, v.id)] = v
	g.order = append(g.order, v)
}

func (g *group) remove(v *Dev) {
	delete(g.byKey, key(v.proto, v.id))
	for i, x := range g.order {
		if x == v {
			g.order = append(g.order[:i], g.order[i+1:]...)
			break
		}
	}
	if len(g.order) == 0 {
		g.lower.SetRxHandler(nil)
		if ts := lookupTable(g.lower.Table()); ts != nil {
			delete(ts.groups, g.lower)
		}
	}
}

// rx is the lower device's receive hook (vlan_do_receive): a frame tagged
// with the protocol and VID of one of the vlans loses its tag and is queued
// for that vlan; a priority tag (VID 0) without a vlan 0 is stripped and
// the frame stays on the lower device; anything else passes.
func (g *group) rx(lower *netdev.Device, b *skb.Buf) netdev.RxResult {
	data := b.Bytes()
	if len(data) < 14+hlen {
		return netdev.RxPass
	}
	proto := binary.BigEndian.Uint16(data[12:14])
	if proto != unix.ETH_P_8021Q && proto != unix.ETH_P_8021AD {
		return netdev.RxPass
	}
	tci := binary.BigEndian.Uint16(data[14:16])
	v := g.byKey[key(proto, tci&0xfff)]
	if v == nil && tci&0xfff != 0 {
		return netdev.RxPass // unknown VID: no handler on the lower device
	}
	if !b.Unshare() {
		lower.Stats.RxDropped++
		b.Free()
		return netdev.RxConsumed
	}
	data = b.Bytes()
	copy(data[hlen:12+hlen], data[0:12])
	b.Pull(hlen)
	if v == nil {
		return netdev.RxPass
	}
	b.Priority = v.qos.ingress[tci>>13].Load()
	v.rxOne.Add(b)
	if n := v.napi.Enqueue(v.rxOne); n > 0 {
		lower.Stats.RxDropped += uint64(n) // this executor's device
	}
	return netdev.RxConsumed
}

// tableState is the vlan bookkeeping of one namespace's device table: the
// groups by lower device, and the one notifier that makes vlans follow
// their lower devices.
type tableState struct {
	groups map[*netdev.Device]*group
}

// tableKey keys a namespace's state of this kind (netns.Net.Generic).
type tableKey struct{}

func lookupTable(t *netdev.Table) *tableState {
	ts, _ := t.Net().Generic(tableKey{}).(*tableState)
	return ts
}

// groupOf returns the vlan group of lower; with create, it makes one and
// installs the receive hook (nil if the lower device has another hook).
func groupOf(lower *netdev.Device, create bool) *group {
	t := lower.Table()
	ts := lookupTable(t)
	if ts == nil && create {
		// Configuration runs on the namespace's executor: no race here.
		ts = &tableState{groups: map[*netdev.Device]*group{}}
		t.Net().SetGeneric(tableKey{}, ts)
		t.Subscribe(ts.event)
	}
	if ts == nil {
		return nil
	}
	g := ts.groups[lower]
	if g == nil && create {
		g = &group{lower: lower, byKey: map[uint32]*Dev{}}
		if lower.SetRxHandler(g.rx) != nil {
			return nil
		}
		ts.groups[lower] = g
	}
	return g
}

// event makes the vlans of a lower device follow it (vlan_device_event):
// carrier, administrative state unless loose binding, MTU, address, and
// removal.
func (ts *tableState) event(ev netdev.Event, d *netdev.Device) {
	if v, ok := Of(d); ok && ev == netdev.EventChangeAddr {
		// An address set by the user stops the vlan following its lower.
		v.inherit = d.Addr() == v.lower.Addr()
		return
	}
	g := ts.groups[d]
	if g == nil {
		return
	}
	vs := append([]*Dev(nil), g.order...)
	for _, v := range vs {
		loose := v.flags.Load()&FlagLooseBinding != 0
		switch ev {
		case netdev.EventChange:
			v.transferOperstate()
		case netdev.EventUp:
			if !loose {
				v.onHome(func() {
					if !v.dev.IsUp() {
						v.dev.Up()
					}
				})
			}
			v.transferOperstate()
		case netdev.EventDown:
			if !loose {
				v.onHome(func() { v.dev.Down() })
			}
			v.transferOperstate()
		case netdev.EventChangeMTU:
			mtu := d.MTU()
			v.onHome(func() {
				if v.dev.MTU() > mtu {
					v.dev.SetMTU(mtu)
				}
			})
		case netdev.EventChangeAddr:
			a := d.Addr()
			v.onHome(func() {
				if v.inherit && v.dev.IsUp() {
					v.dev.SetAddr(a)
				}
			})
		case netdev.EventUnregister:
			v.onHome(func() { v.home.Load().Unregister(v.dev) })
		}
	}
}

package ipvlan

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netns"
	"github.com/usnet/usnet/skb"
)

// maxAddrs bounds the addresses of one port.
const maxAddrs = 4096

// port is the state of one lower device (struct ipvl_port). It is touched
// on the lower device's executor only.
type port struct {
	lower  *netdev.Device
	slaves []*Dev
	addrs  map[netip.Addr]*Dev
	mode   uint16
	flags  uint16
	one    *skb.Batch
}

func (p *port) setMode(mode, flags uint16) {
	p.mode, p.flags = mode, flags
	for _, v := range p.slaves {
		noarp := mode != ModeL2
		d := v.dev
		v.onHome(func() {
			if noarp {
				d.SetFlags(netdev.FlagNoARP, netdev.FlagNoARP)
			} else {
				d.SetFlags(0, netdev.FlagNoARP)
			}
		})
	}
}

func (p *port) remove(v *Dev) {
	for a, x := range p.addrs {
		if x == v {
			delete(p.addrs, a)
		}
	}
	for i, x := range p.slaves {
		if x == v {
			p.slaves = append(p.slaves[:i], p.slaves[i+1:]...)
			break
		}
	}
	if len(p.slaves) == 0 {
		p.lower.SetRxHandler(nil)
		if st := lookupNet(p.lower.Table().Net()); st != nil {
			delete(st.ports, p.lower)
		}
	}
}

// l3Addr returns the address an IPv4 or ARP frame is for (dst) or from
// (src), as ipvlan_get_L3_hdr and ipvlan_addr_lookup see it.
func l3Addr(frame []byte, dst bool) (netip.Addr, bool) {
	if len(frame) < 14 {
		return netip.Addr{}, false
	}
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case 0x0800:
		if len(frame) < 14+20 {
			return netip.Addr{}, false
		}
		if dst {
			return netip.AddrFrom4([4]byte(frame[30:34])), true
		}
		return netip.AddrFrom4([4]byte(frame[26:30])), true
	case 0x0806:
		// Ethernet/IPv4 ARP: sender IP at 14+14, target IP at 14+24.
		if len(frame) < 14+28 {
			return netip.Addr{}, false
		}
		if dst {
			return netip.AddrFrom4([4]byte(frame[38:42])), true
		}
		return netip.AddrFrom4([4]byte(frame[28:32])), true
	}
	return netip.Addr{}, false
}

func isMulticast(mac []byte) bool { return mac[0]&1 != 0 }

// rx is the lower device's receive hook (ipvlan_handle_frame).
func (p *port) rx(lower *netdev.Device, b *skb.Buf) netdev.RxResult {
	data := b.Bytes()
	if len(data) < 14 {
		return netdev.RxPass
	}
	if isMulticast(data[0:6]) {
		if p.mode == ModeL2 && p.external(data) {
			p.flood(b, nil)
		}
		return netdev.RxPass
	}
	ip, ok := l3Addr(data, true)
	if !ok {
		return netdev.RxPass
	}
	v := p.addrs[ip]
	if v == nil {
		return netdev.RxPass
	}
	if !v.up.Load() {
		b.Free()
		return netdev.RxConsumed
	}
	v.receive(b)
	return netdev.RxConsumed
}

// external reports whether a broadcast came from outside the port
// (ipvlan_external_frame): another MAC, or ours with a source address no
// slave has.
func (p *port) external(frame []byte) bool {
	if [6]byte(frame[6:12]) != p.lower.Addr() {
		return true
	}
	ip, ok := l3Addr(frame, false)
	return !ok || p.addrs[ip] == nil
}

// flood gives a copy of b to every up slave but from
// (ipvlan_process_multicast).
func (p *port) flood(b *skb.Buf, from *Dev) {
	for _, v := range p.slaves {
		if v == from || !v.up.Load() {
			continue
		}
		v.receive(b.Clone())
	}
}

// flushTx runs on the lower's executor with the frames the slave sent
// (ipvlan_queue_xmit); it takes every Buf of bt. Drops are counted on the
// lower device, whose executor this is.
func (v *Dev) flushTx(bt *skb.Batch) {
	p := v.port
	for _, b := range bt.Bufs() {
		if len(p.slaves) == 0 || !p.xmitOne(v, b) {
			v.lower.Stats.TxDropped++
			b.Free()
		}
	}
	bt.Reset()
}

// xmitOne handles one frame of slave v; false means drop it.
func (p *port) xmitOne(v *Dev, b *skb.Buf) bool {
	data := b.Bytes()
	if len(data) < 14 || !v.lower.IsUp() {
		return false
	}
	if p.mode == ModeL2 {
		return p.xmitL2(v, b)
	}
	return p.xmitL3(v, b)
}

// xmitL3 is ipvlan_xmit_mode_l3: another slave's address is delivered
// directly (bridge), dropped (private) or routed out (vepa); everything
// else is routed in the lower's namespace (ipvlan_process_v4_outbound).
func (p *port) xmitL3(v *Dev, b *skb.Buf) bool {
	data := b.Bytes()
	if binary.BigEndian.Uint16(data[12:14]) != 0x0800 {
		return false
	}
	dst, ok := l3Addr(data, true)
	if !ok {
		return false
	}
	if p.flags&FlagVEPA == 0 {
		if w := p.addrs[dst]; w != nil {
			if p.flags&FlagPrivate != 0 || !w.up.Load() {
				return false
			}
			b.PktType = skb.PacketHost
			w.receive(b)
			return true
		}
	}
	st := lookupNet(p.lower.Table().Net())
	if st == nil || st.ip == nil {
		return false
	}
	// FLOWI_FLAG_ANYSRC: the slave's source address is not local here.
	rt, err := st.ip.RouteOutput(&ipv4.FlowKey{Dst: dst, Oif: p.lower.Ifindex(), Mark: b.Mark, TOS: data[15]})
	if err != nil || rt.Type != 1 && rt.Type != 2 { // RTN_UNICAST, RTN_LOCAL
		return false
	}
	b.Pull(14)
	b.SetL3()
	b.Protocol = 0x0800
	st.ip.OutputRaw(b, &rt)
	return true
}

// xmitL2 is ipvlan_xmit_mode_l2: frames to the shared MAC go to the slave
// with the destination address (or up the lower device), broadcasts reach
// the other slaves and leave, the rest leaves by the lower device.
func (p *port) xmitL2(v *Dev, b *skb.Buf) bool {
	data := b.Bytes()
	dst, src := [6]byte(data[0:6]), [6]byte(data[6:12])
	if p.flags&FlagVEPA == 0 && dst == src {
		if ip, ok := l3Addr(data, true); ok {
			if w := p.addrs[ip]; w != nil {
				if p.flags&FlagPrivate != 0 || !w.up.Load() {
					return false
				}
				b.PktType = skb.PacketHost
				w.receive(b)
				return true
			}
		}
		// For the lower device itself (dev_forward_skb).
		p.one.Add(b)
		p.lower.Receive(p.one)
		return true
	}
	if isMulticast(dst[:]) && p.flags&(FlagPrivate|FlagVEPA) == 0 {
		p.flood(b, v)
	}
	p.one.Add(b)
	p.lower.Xmit(p.one)
	return true
}

// netState is the ipvlan bookkeeping of one namespace: its IPv4 layer
// (for the addresses of slaves there and the routing of l3 slaves whose
// lower is there) and its ports.
type netState struct {
	ip    *ipv4.Layer
	ports map[*netdev.Device]*port
}

// netKey keys a namespace's ipvlan state (netns.Net.Generic).
type netKey struct{}

func lookupNet(n *netns.Net) *netState {
	st, _ := n.Generic(netKey{}).(*netState)
	return st
}

// Attach makes ipvlan work in the namespace of devs: slaves there learn
// their addresses from ip, and l3 slaves whose lower device is there are
// routed by it. Call it on the namespace's executor; a second call does
// nothing.
func Attach(devs *netdev.Table, ip *ipv4.Layer) {
	n := devs.Net()
	if lookupNet(n) != nil {
		return
	}
	st := &netState{ip: ip, ports: map[*netdev.Device]*port{}}
	n.SetGeneric(netKey{}, st)
	devs.Subscribe(st.event)
	if ip != nil {
		ip.SubscribeAddrs(st.addrEvent)
	}
}

// portOf returns the port of lower; with create, it makes one and installs
// the receive hook (nil if the lower has another one, or the namespace is
// not attached).
func portOf(lower *netdev.Device, create bool) *port {
	st := lookupNet(lower.Table().Net())
	if st == nil {
		if !create {
			return nil
		}
		Attach(lower.Table(), nil)
		st = lookupNet(lower.Table().Net())
	}
	p := st.ports[lower]
	if p == nil && create {
		p = &port{lower: lower, addrs: map[netip.Addr]*Dev{}, one: skb.NewBatch(1)}
		if lower.SetRxHandler(p.rx) != nil {
			return nil
		}
		st.ports[lower] = p
	}
	return p
}

// addrEvent tracks the IPv4 addresses of slaves in this namespace
// (ipvlan_addr4_event); the port's table lives on the lower's executor.
func (st *netState) addrEvent(ev ipv4.AddrEvent, a *ipv4.IfAddr) {
	v, ok := Of(a.Dev)
	if !ok {
		return
	}
	ip := a.Local
	p := v.port
	v.lower.Table().Net().Exec().Post(func() {
		switch ev {
		case ipv4.AddrNew:
			if p.addrs[ip] == nil && len(p.addrs) < maxAddrs {
				p.addrs[ip] = v
			}
		case ipv4.AddrDel:
			if p.addrs[ip] == v {
				delete(p.addrs, ip)
			}
		}
	})
}

// event makes the slaves of a lower device follow it
// (ipvlan_device_event).
func (st *netState) event(ev netdev.Event, d *netdev.Device) {
	p := st.ports[d]
	if p == nil {
		return
	}
	for _, v := range append([]*Dev(nil), p.slaves...) {
		switch ev {
		case netdev.EventUp, netdev.EventDown, netdev.EventChange:
			v.setCarrier(d.Carrier())
		case netdev.EventChangeMTU:
			sd, mtu := v.dev, d.MTU()
			v.onHome(func() {
				if sd.MTU() > mtu {
					sd.SetMTU(mtu)
				}
			})
		case netdev.EventChangeAddr:
			sd, a := v.dev, d.Addr()
			v.onHome(func() { sd.SetAddr(a) })
		case netdev.EventUnregister:
			v.onHome(func() { v.home.Load().Unregister(v.dev) })
		}
	}
}

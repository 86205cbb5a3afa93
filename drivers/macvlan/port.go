package macvlan

import (
	"sync/atomic"
	"syscall"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// port is the state of one lower device (struct macvlan_port): its
// macvlans, the addresses of those that are up, and the source list.
type port struct {
	lower    *netdev.Device
	vlans    []*Dev
	byMAC    map[[6]byte]*Dev
	passthru bool
	sources  []source // source-mode entries, in insertion order
	bcUsed   atomic.Uint32
}

type source struct {
	addr [6]byte
	v    *Dev
}

func isMulticast(a []byte) bool { return a[0]&1 != 0 }

// busy reports whether addr is the lower device's or another up
// macvlan's (macvlan_addr_busy).
func (p *port) busy(addr [6]byte, self *Dev) bool {
	if addr == p.lower.Addr() {
		return true
	}
	o := p.byMAC[addr]
	return o != nil && o != self
}

func (p *port) remove(v *Dev) {
	v.unhash()
	p.flushSources(v)
	for i, x := range p.vlans {
		if x == v {
			p.vlans = append(p.vlans[:i], p.vlans[i+1:]...)
			break
		}
	}
	if v.mode == ModePassthru {
		p.passthru = false
	}
	if len(p.vlans) == 0 {
		p.lower.SetRxHandler(nil)
		if ts := lookupTable(p.lower.Table()); ts != nil {
			delete(ts.ports, p.lower)
		}
		return
	}
	p.updateBCQueueLen()
}

// updateBCQueueLen is update_port_bc_queue_len: the largest request.
func (p *port) updateBCQueueLen() {
	var m uint32
	for _, v := range p.vlans {
		m = max(m, v.bcQueueLen)
	}
	p.bcUsed.Store(m)
}

func (p *port) addSource(v *Dev, a [6]byte) error {
	if isMulticast(a[:]) {
		return syscall.EINVAL
	}
	for _, s := range p.sources {
		if s.v == v && s.addr == a {
			return nil
		}
	}
	if len(p.sources) >= maxSources {
		return syscall.ENOSPC
	}
	// Newest first, which is the kernel's dump order for the entries of
	// one hash bucket (its buckets themselves are not reproduced).
	p.sources = append(p.sources, source{})
	copy(p.sources[1:], p.sources[:len(p.sources)-1])
	p.sources[0] = source{addr: a, v: v}
	v.nsources++
	return nil
}

func (p *port) delSource(v *Dev, a [6]byte) {
	for i, s := range p.sources {
		if s.v == v && s.addr == a {
			p.sources = append(p.sources[:i], p.sources[i+1:]...)
			v.nsources--
			return
		}
	}
}

func (p *port) flushSources(v *Dev) {
	out := p.sources[:0]
	for _, s := range p.sources {
		if s.v != v {
			out = append(out, s)
		}
	}
	clear(p.sources[len(out):])
	p.sources = out
	v.nsources = 0
}

func (p *port) sourcesOf(v *Dev) [][6]byte {
	var l [][6]byte
	for _, s := range p.sources {
		if s.v == v {
			l = append(l, s.addr)
		}
	}
	return l
}

// forwardSource gives a copy of b to every up source-mode macvlan that
// lists its source address (macvlan_forward_source).
func (p *port) forwardSource(b *skb.Buf, src []byte) {
	for _, s := range p.sources {
		if s.addr == [6]byte(src) && s.v.up.Load() {
			s.v.receive(b.Clone())
		}
	}
}

// broadcast gives a copy of b to every macvlan whose mode is in modes,
// except src (macvlan_broadcast).
func (p *port) broadcast(b *skb.Buf, src *Dev, modes uint32) {
	for _, v := range p.vlans {
		if v == src || v.mode&modes == 0 || !v.up.Load() {
			continue
		}
		v.receive(b.Clone())
	}
}

// rx is the lower device's receive hook (macvlan_handle_frame).
func (p *port) rx(lower *netdev.Device, b *skb.Buf) netdev.RxResult {
	data := b.Bytes()
	if len(data) < 14 {
		return netdev.RxPass
	}
	dst, src := data[0:6], data[6:12]
	if len(p.sources) > 0 {
		p.forwardSource(b, src)
	}
	if isMulticast(dst) {
		s := p.byMAC[[6]byte(src)]
		if s != nil && s.mode != ModeVEPA && s.mode != ModeBridge {
			// Our own private (or passthru) macvlan's frame, reflected:
			// it goes back to that macvlan only.
			s.receive(b)
			return netdev.RxConsumed
		}
		switch {
		case s == nil: // from outside
			p.broadcast(b, nil, ModePrivate|ModeVEPA|ModeBridge|ModePassthru)
		case s.mode == ModeVEPA:
			p.broadcast(b, s, ModeVEPA|ModeBridge)
		default: // bridge: the bridge macvlans had it on transmit
			p.broadcast(b, s, ModeVEPA)
		}
		return netdev.RxPass
	}
	var v *Dev
	if p.passthru {
		v = p.vlans[0]
	} else {
		v = p.byMAC[[6]byte(dst)]
	}
	if v == nil || v.mode == ModeSource {
		return netdev.RxPass
	}
	if !v.up.Load() {
		b.Free()
		return netdev.RxConsumed
	}
	v.receive(b)
	return netdev.RxConsumed
}

// Xmit sends frames: at once next to the lower device, through the
// queue to its executor from another namespace.
func (v *Dev) Xmit(d *netdev.Device, bt *skb.Batch) {
	if v.local() {
		v.xmitOnLower(bt)
		return
	}
	if n := v.txq.Put(bt); n > 0 {
		d.Stats.TxDropped += uint64(n)
	}
}

// xmitOnLower is macvlan_queue_xmit, on the lower's executor: in bridge
// mode, frames for another bridge-mode macvlan of the port go straight to
// it (and broadcasts to each of them too); everything else leaves by the
// lower device. It takes every Buf of bt.
func (v *Dev) xmitOnLower(bt *skb.Batch) {
	p := v.port
	for _, b := range bt.Bufs() {
		data := b.Bytes()
		if len(data) < 14 || p == nil {
			v.lower.Stats.TxDropped++
			b.Free()
			continue
		}
		if v.mode == ModeBridge {
			dst := data[0:6]
			if isMulticast(dst) {
				p.broadcast(b, v, ModeBridge)
			} else if w := p.byMAC[[6]byte(dst)]; w != nil && w.mode == ModeBridge && w.up.Load() {
				b.PktType = skb.PacketHost
				w.receive(b)
				continue
			}
		}
		v.tx.Add(b)
	}
	bt.Reset()
	if v.tx.Len() > 0 {
		v.lower.Xmit(v.tx)
	}
}

// tableState is the macvlan bookkeeping of one namespace's device table.
type tableState struct {
	ports map[*netdev.Device]*port
}

// tableKey keys a namespace's state of this kind (netns.Net.Generic).
type tableKey struct{}

func lookupTable(t *netdev.Table) *tableState {
	ts, _ := t.Net().Generic(tableKey{}).(*tableState)
	return ts
}

// portOf returns the port of lower; with create, it makes one and
// installs the receive hook (nil if the lower has another hook).
func portOf(lower *netdev.Device, create bool) *port {
	t := lower.Table()
	ts := lookupTable(t)
	if ts == nil && create {
		// Configuration runs on the namespace's executor: no race here.
		ts = &tableState{ports: map[*netdev.Device]*port{}}
		t.Net().SetGeneric(tableKey{}, ts)
		t.Subscribe(ts.event)
	}
	if ts == nil {
		return nil
	}
	p := ts.ports[lower]
	if p == nil && create {
		p = &port{lower: lower, byMAC: map[[6]byte]*Dev{}}
		if lower.SetRxHandler(p.rx) != nil {
			return nil
		}
		ts.ports[lower] = p
	}
	return p
}

// event makes macvlans follow their lower device (macvlan_device_event)
// and keeps the address table right when a macvlan's address changes.
func (ts *tableState) event(ev netdev.Event, d *netdev.Device) {
	if v, ok := Of(d); ok {
		if ev == netdev.EventChangeAddr && v.hashed {
			for a, x := range v.port.byMAC {
				if x == v {
					delete(v.port.byMAC, a)
				}
			}
			v.port.byMAC[d.Addr()] = v
		}
		return
	}
	p := ts.ports[d]
	if p == nil {
		return
	}
	vs := append([]*Dev(nil), p.vlans...)
	for _, v := range vs {
		switch ev {
		case netdev.EventUp, netdev.EventDown, netdev.EventChange:
			v.transferOperstate()
		case netdev.EventChangeMTU:
			mtu := d.MTU()
			v.onHome(func() {
				if v.dev.MTU() > mtu {
					v.dev.SetMTU(mtu)
				}
			})
		case netdev.EventChangeAddr:
			if v.mode == ModePassthru {
				a := d.Addr()
				v.onHome(func() { v.dev.SetAddr(a) })
			}
		case netdev.EventUnregister:
			v.onHome(func() { v.home.Load().Unregister(v.dev) })
		}
	}
}

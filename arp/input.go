package arp

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// frame is a validated Ethernet/IPv4 ARP packet's fields.
type frame struct {
	op       uint16
	sha, tha [6]byte
	sip, tip netip.Addr
}

// parse validates p as arp_rcv and arp_process do for an Ethernet
// device: hardware type Ethernet or IEEE 802, protocol IPv4, address
// lengths 6 and 4, opcode request or reply. Trailing bytes (padding) are
// ignored.
func parse(p []byte) (frame, bool) {
	if len(p) < arpLen {
		return frame{}, false
	}
	hrd := binary.BigEndian.Uint16(p[0:2])
	pro := binary.BigEndian.Uint16(p[2:4])
	op := binary.BigEndian.Uint16(p[6:8])
	if (hrd != hrdEther && hrd != hrdIEEE802) || pro != etherTypeIPv4 || p[4] != 6 || p[5] != 4 ||
		(op != opRequest && op != opReply) {
		return frame{}, false
	}
	return frame{
		op:  op,
		sha: [6]byte(p[8:14]),
		sip: netip.AddrFrom4([4]byte(p[14:18])),
		tha: [6]byte(p[18:24]),
		tip: netip.AddrFrom4([4]byte(p[24:28])),
	}, true
}

// rcv is the 0x0806 protocol handler (arp_rcv).
func (a *ARP) rcv(dev *netdev.Device, bt *skb.Batch) {
	for _, b := range bt.Bufs() {
		a.Stats.InFrames++
		a.input(dev, b)
		b.Free()
	}
	bt.Reset()
}

// input processes one frame; the caller frees b.
func (a *ARP) input(dev *netdev.Device, b *skb.Buf) {
	if dev.Flags()&netdev.FlagNoARP != 0 || b.PktType == skb.PacketOtherHost || b.PktType == skb.PacketLoopback {
		a.Stats.InIgnored++
		return
	}
	f, ok := parse(b.Bytes())
	if !ok {
		a.Stats.InMalformed++
		return
	}
	switch {
	case f.sha == dev.Addr() && a.addrs.AddrType(dev, f.sip) == RTNLocal:
		// Our own frame reflected back (a hub, a bridge loop): never
		// learn ourselves as a neighbour. Only our own sender address
		// makes it ours: ipvlan l2 slaves in other namespaces share the
		// device's MAC and must resolve each other.
		a.Stats.InOwnSender++
		return
	case f.sha[0]&1 != 0:
		// A group address cannot be a host's: learning it would turn
		// unicast traffic into a flood.
		a.Stats.InBadSender++
		return
	}
	a.process(dev, b, &f)
}

// process is arp_process after validation.
func (a *ARP) process(dev *netdev.Device, b *skb.Buf, f *frame) {
	if f.op == opRequest {
		a.Stats.RequestsIn++
	} else {
		a.Stats.RepliesIn++
	}
	if f.tip.IsMulticast() || f.tip.IsLoopback() { // route_localnet off
		a.Stats.InBadTarget++
		return
	}
	conf := a.addrs.Conf(dev)
	if f.sip == f.tip && conf.DropGratuitous {
		a.Stats.InIgnored++
		return
	}
	sha := f.sha
	// Duplicate address detection probe (RFC 5227): answer for our
	// address, learn nothing.
	if f.sip.IsUnspecified() {
		if f.op == opRequest && a.addrs.AddrType(dev, f.tip) == RTNLocal && !a.ignore(dev, conf, f.sip, f.tip) {
			if a.send(opReply, dev, f.sip, f.tip, &sha, &sha) {
				a.Stats.RepliesOut++
			}
		}
		return
	}
	if f.op == opRequest {
		if typ, out, ok := a.addrs.RouteInput(dev, f.tip, f.sip); ok {
			if typ == RTNLocal {
				dont := a.ignore(dev, conf, f.sip, f.tip)
				if !dont && conf.Filter {
					dont = a.filter(dev, f.sip, f.tip)
				}
				if !dont && a.tbl.EventNS(dev, f.sip, sha) != nil {
					if a.send(opReply, dev, f.sip, f.tip, &sha, &sha) {
						a.Stats.RepliesOut++
					}
				}
				return
			}
			if conf.Forwarding && typ == RTNUnicast && out != dev &&
				(conf.ProxyARP || a.tbl.LookupProxy(dev, f.tip) != nil) {
				// arp_fwd_proxy with medium_id 0, or a proxy
				// neighbour entry for tip on dev (`ip neigh add
				// proxy`), which needs no proxy_arp but still
				// forwarding and a route out of another device.
				// Linux may delay replies to broadcast requests by
				// proxy_delay; usnet answers at once (proxy_delay 0).
				a.tbl.EventNS(dev, f.sip, sha)
				if a.send(opReply, dev, f.sip, f.tip, &sha, &sha) {
					a.Stats.ProxyReplies++
				}
				return
			}
		}
	}
	a.learn(dev, b, f, conf)
}

// learn is the "update our ARP tables" tail of arp_process.
func (a *ARP) learn(dev *netdev.Device, b *skb.Buf, f *frame, conf Conf) {
	e := a.tbl.Lookup(dev.Ifindex(), f.sip)
	addrType := -1
	isGARP := false
	accept := a.accept(dev, conf, f.sip)
	if e != nil || accept {
		isGARP = a.isGARP(dev, &addrType, f)
	}
	if e == nil && accept {
		if isGARP || (f.op == opReply && (addrType == int(RTNUnicast) ||
			(addrType < 0 && a.addrs.AddrType(dev, f.sip) == RTNUnicast))) {
			e, _ = a.tbl.LookupOrCreate(dev, f.sip)
		}
	}
	if e == nil {
		return
	}
	now := a.tbl.Exec().Now()
	override := now > e.Updated+a.tbl.Params(dev.Ifindex()).LockTime || isGARP
	// Broadcast replies and requests do not prove reachability.
	state := neigh.StateReachable
	if f.op != opReply || b.PktType != skb.PacketHost {
		state = neigh.StateStale
	}
	var fl neigh.UpdateFlags
	if override {
		fl = neigh.UpdateOverride
	}
	sha := f.sha
	_ = a.tbl.UpdateEntry(e, &sha, state, fl)
}

// isGARP is arp_is_garp: sender and target address equal (and, for a
// reply, sender and target hardware address too) and a unicast address.
func (a *ARP) isGARP(dev *netdev.Device, addrType *int, f *frame) bool {
	g := f.sip == f.tip
	if g && f.op == opReply {
		g = f.tha == f.sha
	}
	if g {
		*addrType = int(a.addrs.AddrType(dev, f.sip))
		g = *addrType == int(RTNUnicast)
	}
	return g
}

// accept is arp_accept: 0 never, 1 always, 2 only senders in one of the
// device's subnets.
func (a *ARP) accept(dev *netdev.Device, conf Conf, sip netip.Addr) bool {
	switch conf.Accept {
	case 0:
		return false
	case 1:
		return true
	case 2:
		return a.addrs.ConfirmAddr(dev, sip, netip.Addr{}, ScopeLink)
	}
	return false
}

// ignore is arp_ignore: whether not to answer a request for tip from sip.
func (a *ARP) ignore(dev *netdev.Device, conf Conf, sip, tip netip.Addr) bool {
	var scope uint8
	switch conf.Ignore {
	case 1: // tip must be configured on the incoming device
		sip = netip.Addr{}
		scope = ScopeHost
	case 2: // ... and sip in one of its subnets
		scope = ScopeHost
	case 3: // no answers for scope host addresses
		sip = netip.Addr{}
		scope = ScopeLink
		dev = nil
	case 8:
		return true
	default: // 0, and the reserved 4..7
		return false
	}
	if sip.IsUnspecified() {
		sip = netip.Addr{}
	}
	return !a.addrs.ConfirmAddr(dev, sip, tip, scope)
}

// filter is arp_filter: answer only if the reply would leave by dev.
func (a *ARP) filter(dev *netdev.Device, sip, tip netip.Addr) bool {
	out, ok := a.addrs.RouteOutput(sip, tip)
	if !ok {
		return true
	}
	if out != dev {
		a.Stats.ARPFilter++
		return true
	}
	return false
}

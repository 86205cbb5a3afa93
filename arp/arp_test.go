package arp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/arp"
	"github.com/usnet/usnet/drivers/dummy"
	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

var (
	ipA = netip.MustParseAddr("10.0.0.1")
	ipB = netip.MustParseAddr("10.0.0.2")
)

func pairWorld(t *testing.T) (*world, *host, *host) {
	w := newWorld(t, "a", "b")
	da, db := w.link(t, "a", "eth0", 1, "b", "eth0", 2)
	a, b := w.h["a"], w.h["b"]
	a.addrs.add(da, "10.0.0.1/24")
	b.addrs.add(db, "10.0.0.2/24")
	w.up(da, db)
	return w, a, b
}

func TestResolveEndToEnd(t *testing.T) {
	w, a, b := pairWorld(t)
	b.captureIPv4()
	a.send(a.eth, "10.0.0.1", "10.0.0.2", 1)
	a.send(a.eth, "10.0.0.1", "10.0.0.2", 2)
	w.run(10 * time.Millisecond)
	if len(b.rx) != 2 || b.rx[0].Bytes()[5] != 1 || b.rx[1].Bytes()[5] != 2 {
		t.Fatalf("b received %d packets", len(b.rx))
	}
	ea := a.arp.Neigh().Lookup(a.eth.Ifindex(), ipB)
	if ea == nil || ea.State != neigh.StateReachable || ea.LLAddr != mac(2) {
		t.Fatalf("a's entry %+v", ea)
	}
	// b learnt a from the request, as neigh_event_ns: STALE.
	eb := b.arp.Neigh().Lookup(b.eth.Ifindex(), ipA)
	if eb == nil || eb.State != neigh.StateStale || eb.LLAddr != mac(1) {
		t.Fatalf("b's entry %+v", eb)
	}
	if a.arp.Stats.RequestsOut != 1 || b.arp.Stats.RepliesOut != 1 || a.arp.Stats.RepliesIn != 1 {
		t.Fatalf("a %+v b %+v", a.arp.Stats, b.arp.Stats)
	}
}

func TestUnansweredRequests(t *testing.T) {
	w, a, b := pairWorld(t)
	b.capture()
	var unreach int
	a.arp.Unreachable = func(dev *netdev.Device, p *skb.Buf) { unreach++; p.Free() }
	a.send(a.eth, "10.0.0.1", "10.0.0.77", 1)
	w.run(5 * time.Second)
	if len(b.seen) != 3 {
		t.Fatalf("%d requests, want 3", len(b.seen))
	}
	for _, f := range b.seen {
		if f.dst != bcastMAC || f.op != 1 || f.sip != ipA || f.tip != netip.MustParseAddr("10.0.0.77") ||
			f.sha != mac(1) || f.tha != [6]byte{} || f.rawLen != 42 || f.ethType != 0x0806 {
			t.Fatalf("request %+v", f)
		}
	}
	if e := a.arp.Neigh().Lookup(a.eth.Ifindex(), netip.MustParseAddr("10.0.0.77")); e.State != neigh.StateFailed {
		t.Fatalf("state %v", e.State)
	}
	if unreach != 1 || w.s.Pool().Live() != 0 {
		t.Fatalf("unreachable reports %d, live buffers %d", unreach, w.s.Pool().Live())
	}
}

// request injects a broadcast request from 02::09 (10.0.0.9) for tip into
// b's eth0 and returns the replies a captured.
func requestTo(t *testing.T, w *world, a, b *host, sip, tip string) []frame {
	t.Helper()
	a.seen = nil
	inject(b.eth, arpFrame(w.s.Pool(), bcastMAC, mac(1), 1, mac(1), sip, [6]byte{}, tip))
	w.run(time.Millisecond)
	return a.seen
}

func TestARPIgnore(t *testing.T) {
	w, a, b := pairWorld(t)
	a.capture()
	d, err := dummy.New(b.ns.Dev, "dummy0")
	if err != nil {
		t.Fatal(err)
	}
	b.addrs.add(d, "192.168.9.9/24")
	b.addrs.add(b.eth, "172.16.0.2/16")
	for _, tc := range []struct {
		ignore   int
		sip, tip string
		reply    bool
	}{
		{0, "10.0.0.1", "192.168.9.9", true}, // any local address (weak host)
		{1, "10.0.0.1", "192.168.9.9", false},
		{1, "10.0.0.1", "10.0.0.2", true},
		{1, "10.0.0.1", "172.16.0.2", true},  // on the device, other subnet
		{2, "10.0.0.1", "172.16.0.2", false}, // sender not in its subnet
		{2, "10.0.0.1", "10.0.0.2", true},
		{8, "10.0.0.1", "10.0.0.2", false},
	} {
		b.addrs.conf[b.eth] = arp.Conf{Ignore: tc.ignore}
		got := requestTo(t, w, a, b, tc.sip, tc.tip)
		if (len(got) == 1) != tc.reply {
			t.Fatalf("arp_ignore=%d %s asks %s: %d replies, want reply %v", tc.ignore, tc.sip, tc.tip, len(got), tc.reply)
		}
		if tc.reply {
			f := got[0]
			if f.op != 2 || f.dst != mac(1) || f.sha != mac(2) || f.tha != mac(1) ||
				f.sip.String() != tc.tip || f.tip.String() != tc.sip {
				t.Fatalf("reply %+v", f)
			}
		}
	}
}

func TestARPFilter(t *testing.T) {
	w, a, b := pairWorld(t)
	a.capture()
	d, _ := dummy.New(b.ns.Dev, "dummy0")
	b.addrs.add(d, "10.0.0.128/25") // the route back to 10.0.0.200 leaves by dummy0
	b.addrs.conf[b.eth] = arp.Conf{Filter: true}
	if got := requestTo(t, w, a, b, "10.0.0.200", "10.0.0.2"); len(got) != 0 || b.arp.Stats.ARPFilter != 1 {
		t.Fatalf("%d replies, ARPFILTER %d", len(got), b.arp.Stats.ARPFilter)
	}
	if got := requestTo(t, w, a, b, "10.0.0.1", "10.0.0.2"); len(got) != 1 {
		t.Fatalf("%d replies", len(got))
	}
}

func TestARPAnnounce(t *testing.T) {
	w, a, b := pairWorld(t)
	b.capture()
	d, _ := dummy.New(a.ns.Dev, "dummy0")
	a.addrs.add(d, "192.168.5.1/24")
	for _, tc := range []struct {
		announce int
		src      string
		want     string
	}{
		{0, "192.168.5.1", "192.168.5.1"}, // any local source
		{1, "192.168.5.1", "10.0.0.1"},    // not in the target's subnet
		{2, "192.168.5.1", "10.0.0.1"},    // always the primary
		{0, "10.9.9.9", "10.0.0.1"},       // not local: selected
	} {
		a.addrs.conf[a.eth] = arp.Conf{Announce: tc.announce}
		b.seen = nil
		tip := netip.AddrFrom4([4]byte{10, 0, 0, byte(50 + len(a.arp.Neigh().Dump()))}).String()
		a.send(a.eth, tc.src, tip, 1)
		w.run(time.Millisecond)
		if len(b.seen) != 1 || b.seen[0].sip.String() != tc.want {
			t.Fatalf("arp_announce=%d from %s: %+v, want source %s", tc.announce, tc.src, b.seen, tc.want)
		}
	}
}

func TestProxyARP(t *testing.T) {
	w := newWorld(t, "a", "r")
	da, dr := w.link(t, "a", "eth0", 1, "r", "eth0", 0xfe)
	a, r := w.h["a"], w.h["r"]
	a.addrs.add(da, "10.0.0.1/16") // a thinks 10.0.1.0/24 is on its link
	r.addrs.add(dr, "10.0.0.254/24")
	d, _ := dummy.New(r.ns.Dev, "dummy0")
	d.Up()
	r.addrs.add(d, "10.0.1.254/24")
	w.up(da, dr)
	a.capture()
	if got := requestTo(t, w, a, r, "10.0.0.1", "10.0.1.5"); len(got) != 0 {
		t.Fatalf("reply without proxy_arp: %+v", got)
	}
	r.addrs.conf[dr] = arp.Conf{ProxyARP: true}
	if got := requestTo(t, w, a, r, "10.0.0.1", "10.0.1.5"); len(got) != 0 {
		t.Fatalf("proxy reply without forwarding: %+v", got)
	}
	r.addrs.conf[dr] = arp.Conf{ProxyARP: true, Forwarding: true}
	got := requestTo(t, w, a, r, "10.0.0.1", "10.0.1.5")
	if len(got) != 1 || got[0].sha != mac(0xfe) || got[0].sip.String() != "10.0.1.5" || r.arp.Stats.ProxyReplies != 1 {
		t.Fatalf("proxy replies %+v", got)
	}
	// Not for a destination on the asking link itself.
	if got := requestTo(t, w, a, r, "10.0.0.1", "10.0.0.77"); len(got) != 0 {
		t.Fatalf("proxied the same link: %+v", got)
	}
}

func TestMalformedFramesCounted(t *testing.T) {
	w, a, b := pairWorld(t)
	_ = a
	pool := w.s.Pool()
	good := func() *skb.Buf {
		return arpFrame(pool, bcastMAC, mac(1), 1, mac(1), "10.0.0.1", [6]byte{}, "10.0.0.2")
	}
	mut := func(off int, v byte) *skb.Buf { b := good(); b.Bytes()[off] = v; return b }
	short := good()
	short.Trim(14 + 27)
	inject(b.eth,
		short,
		mut(14+1, 7),    // hardware type 7
		mut(14+2, 0x86), // protocol not IPv4
		mut(14+4, 8),    // hlen
		mut(14+5, 16),   // plen
		mut(14+7, 3),    // opcode 3 (RARP)
		mut(14+8, 0x01), // multicast sender
		arpFrame(pool, bcastMAC, mac(2), 1, mac(2), "10.0.0.2", [6]byte{}, "10.0.0.1"), // our own request reflected
		arpFrame(pool, bcastMAC, mac(1), 1, mac(1), "10.0.0.1", [6]byte{}, "224.0.0.1"),
		arpFrame(pool, bcastMAC, mac(1), 1, mac(1), "10.0.0.1", [6]byte{}, "127.0.0.1"),
	)
	w.run(time.Millisecond)
	s := b.arp.Stats
	if s.InFrames != 10 || s.InMalformed != 6 || s.InBadSender != 1 || s.InOwnSender != 1 || s.InBadTarget != 2 || s.RepliesOut != 0 {
		t.Fatalf("stats %+v", s)
	}
	if b.arp.Neigh().Len() != 0 || pool.Live() != 0 {
		t.Fatalf("%d entries, %d live buffers", b.arp.Neigh().Len(), pool.Live())
	}
	// IEEE 802 hardware type is accepted on Ethernet.
	inject(b.eth, mut(14+1, 6))
	w.run(time.Millisecond)
	if b.arp.Stats.RepliesOut != 1 {
		t.Fatalf("IEEE802 request not answered: %+v", b.arp.Stats)
	}
}

// TestProxyNeighbourEntry: `ip neigh add proxy ADDR dev DEV` makes ARP
// answer for ADDR on DEV without proxy_arp (arp_process's pneigh_lookup),
// with forwarding on and a route to ADDR out of another device only.
func TestProxyNeighbourEntry(t *testing.T) {
	w := newWorld(t, "a", "r")
	da, dr := w.link(t, "a", "eth0", 1, "r", "eth0", 0xfe)
	a, r := w.h["a"], w.h["r"]
	a.addrs.add(da, "10.0.0.1/16")
	r.addrs.add(dr, "10.0.0.254/24")
	d, _ := dummy.New(r.ns.Dev, "dummy0")
	d.Up()
	r.addrs.add(d, "10.0.1.254/24")
	w.up(da, dr)
	a.capture()
	tbl := r.arp.Neigh()
	proxy := func(dev *netdev.Device, ip string) {
		t.Helper()
		err := tbl.Add(neigh.AddRequest{Dev: dev, Addr: netip.MustParseAddr(ip), State: neigh.StatePermanent, Flags: neigh.FlagProxy})
		if err != nil {
			t.Fatal(err)
		}
	}
	proxy(dr, "10.0.1.5")
	if got := requestTo(t, w, a, r, "10.0.0.1", "10.0.1.5"); len(got) != 0 {
		t.Fatalf("proxy entry answered without forwarding: %+v", got)
	}
	r.addrs.conf[dr] = arp.Conf{Forwarding: true}
	got := requestTo(t, w, a, r, "10.0.0.1", "10.0.1.5")
	if len(got) != 1 || got[0].op != 2 || got[0].sha != mac(0xfe) || got[0].sip.String() != "10.0.1.5" ||
		got[0].tip.String() != "10.0.0.1" || got[0].tha != mac(1) || r.arp.Stats.ProxyReplies != 1 {
		t.Fatalf("proxy entry replies %+v", got)
	}
	// The asker is learned, as neigh_event_ns does.
	if n := tbl.Lookup(dr.Ifindex(), netip.MustParseAddr("10.0.0.1")); n == nil || n.State != neigh.StateStale {
		t.Fatalf("asker not learned: %+v", n)
	}
	// Only the proxied address.
	if got := requestTo(t, w, a, r, "10.0.0.1", "10.0.1.6"); len(got) != 0 {
		t.Fatalf("answered an address without an entry: %+v", got)
	}
	// An entry whose route leaves by the asking device is not answered.
	proxy(dr, "10.0.0.77")
	if got := requestTo(t, w, a, r, "10.0.0.1", "10.0.0.77"); len(got) != 0 {
		t.Fatalf("proxied the same link: %+v", got)
	}
	// An entry for another device does not answer on this one; a
	// wildcard entry (no device) answers on every device.
	proxy(d, "10.0.1.6")
	if got := requestTo(t, w, a, r, "10.0.0.1", "10.0.1.6"); len(got) != 0 {
		t.Fatalf("entry of another device answered: %+v", got)
	}
	proxy(nil, "10.0.1.7")
	if got := requestTo(t, w, a, r, "10.0.0.1", "10.0.1.7"); len(got) != 1 {
		t.Fatalf("wildcard entry: %+v", got)
	}
	// Deleted: silent again.
	if err := tbl.DeleteProxy(dr, netip.MustParseAddr("10.0.1.5")); err != nil {
		t.Fatal(err)
	}
	if got := requestTo(t, w, a, r, "10.0.0.1", "10.0.1.5"); len(got) != 0 {
		t.Fatalf("deleted entry answered: %+v", got)
	}
}

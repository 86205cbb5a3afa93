package arp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/arp"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/skb"
)

func TestGratuitousAndAccept(t *testing.T) {
	w, a, b := pairWorld(t)
	nb := b.arp.Neigh()
	// Unknown sender, arp_accept 0: not learnt.
	a.arp.SendGratuitous(a.eth, ipA)
	w.run(time.Millisecond)
	if nb.Len() != 0 {
		t.Fatal("gratuitous ARP created an entry with arp_accept=0")
	}
	b.addrs.conf[b.eth] = arp.Conf{Accept: 1}
	a.arp.SendGratuitous(a.eth, ipA)
	w.run(time.Millisecond)
	e := nb.Lookup(b.eth.Ifindex(), ipA)
	if e == nil || e.State != neigh.StateStale || e.LLAddr != mac(1) {
		t.Fatalf("entry %+v", e)
	}
	// Within locktime a reply with another MAC is ignored, a
	// gratuitous one is not.
	inject(b.eth, arpFrame(w.s.Pool(), mac(2), mac(3), 2, mac(3), "10.0.0.1", mac(2), "10.0.0.2"))
	if e.LLAddr != mac(1) {
		t.Fatalf("reply within locktime overrode: %x", e.LLAddr)
	}
	inject(b.eth, arpFrame(w.s.Pool(), bcastMAC, mac(3), 1, mac(3), "10.0.0.1", [6]byte{}, "10.0.0.1"))
	if e.LLAddr != mac(3) || e.State != neigh.StateStale {
		t.Fatalf("gratuitous within locktime: %x %v", e.LLAddr, e.State)
	}
	w.run(2 * time.Second)
	inject(b.eth, arpFrame(w.s.Pool(), mac(2), mac(1), 2, mac(1), "10.0.0.1", mac(2), "10.0.0.2"))
	if e.LLAddr != mac(1) || e.State != neigh.StateReachable {
		t.Fatalf("unicast reply after locktime: %x %v", e.LLAddr, e.State)
	}
}

func TestARPNotifyOnUp(t *testing.T) {
	w := newWorld(t, "a", "b")
	da, db := w.link(t, "a", "eth0", 1, "b", "eth0", 2)
	a, b := w.h["a"], w.h["b"]
	a.addrs.add(da, "10.0.0.1/24")
	a.addrs.add(da, "10.0.0.11/24")
	b.capture()
	db.Up()
	a.addrs.conf[da] = arp.Conf{Notify: true}
	w.up(da)
	if len(b.seen) != 2 || b.seen[0].sip != ipA || b.seen[0].tip != ipA || b.seen[1].sip.String() != "10.0.0.11" || b.seen[0].dst != bcastMAC {
		t.Fatalf("announcements %+v", b.seen)
	}
	b.seen = nil
	da.SetAddr(mac(9))
	w.run(time.Millisecond)
	if len(b.seen) != 2 || b.seen[0].sha != mac(9) {
		t.Fatalf("announcements after MAC change %+v", b.seen)
	}
}

// FuzzARPInput feeds arbitrary frames (Ethernet header included) to the
// ARP handler of a configured host: it must never panic or leak.
func FuzzARPInput(f *testing.F) {
	f.Add(make([]byte, 42))
	for _, op := range []uint16{1, 2} {
		b := arpFrame(skb.NewPool(), bcastMAC, mac(1), op, mac(1), "10.0.0.1", [6]byte{}, "10.0.0.2")
		f.Add(append([]byte(nil), b.Bytes()...))
	}
	w := newWorld(f, "a", "b")
	da, db, err := veth.Create(veth.End{Table: w.h["a"].ns.Dev, Name: "eth0", Addr: mac(1)},
		veth.End{Table: w.h["b"].ns.Dev, Name: "eth0", Addr: mac(2)})
	if err != nil {
		f.Fatal(err)
	}
	b := w.h["b"]
	b.eth = db
	b.addrs.add(db, "10.0.0.2/24")
	b.addrs.conf[db] = arp.Conf{Accept: 1, ProxyARP: true, Forwarding: true}
	w.up(da, db)
	f.Fuzz(func(t *testing.T, data []byte) {
		buf := w.s.Pool().GetData(data)
		if buf == nil {
			return
		}
		if len(data) >= 14 {
			// Always through the ARP handler, whatever the EtherType.
			p := buf.Bytes()
			p[12], p[13] = 0x08, 0x06
		}
		inject(db, buf)
		w.run(10 * time.Millisecond)
		b.arp.Neigh().FlushDev(db, false)
		if n := w.s.Pool().Live(); n != 0 {
			t.Fatalf("%d buffers leaked", n)
		}
	})
}

package sim

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/scenario"
	"github.com/usnet/usnet/skb"
)

// TestTCPPathMTUDiscovery: h1 sends 2 MiB to h2 over a path where r's
// side of the second link has MTU 1000 while h1's and h2's links have
// 1500, so the handshake agrees on MSS 1460. The first full-sized
// segments are refused at r (DF) with frag-needed; h1's route learns MTU
// 1000, TCP shrinks its segments to fit, and every segment r forwards
// onto the narrow link fits it (a GSO super-packet's segment size
// included); the data arrives byte-exact.
func TestTCPPathMTUDiscovery(t *testing.T) {
	w := build(t, scenario.IPTopology())
	h1, h2, r := w.NS["h1"], w.NS["h2"], w.NS["r"]
	narrow := w.Dev("r", "eth1")
	if err := narrow.SetMTU(1000); err != nil {
		t.Fatal(err)
	}
	tooBig := 0
	segs := 0
	r.Dev.AddTap(narrow, func(d *netdev.Device, b *skb.Buf, dir netdev.Direction, now int64) {
		data := b.Bytes()
		if dir != netdev.DirOut || len(data) < 14+20 || binary.BigEndian.Uint16(data[12:]) != 0x0800 || data[14+9] != 6 {
			return
		}
		ip := data[14:]
		ihl := int(ip[0]&15) * 4
		thl := int(ip[ihl+12]>>4) * 4
		seg := len(ip) - ihl - thl // payload, or the whole super-packet's
		if b.GSOSize > 0 && seg > int(b.GSOSize) {
			seg = int(b.GSOSize)
		}
		segs++
		if ihl+thl+seg > 1000 {
			tooBig++
		}
	})
	l, err := h2.TCP.Listen(netip.AddrPortFrom(h2Addr, 5002), 4)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	done := false
	l.OnAcceptable = func() {
		for s := l.Accept(); s != nil; s = l.Accept() {
			s.OnReadable = func() {
				for {
					n, eof, _ := s.Recv(buf)
					got.Write(buf[:n])
					if eof {
						done = true
					}
					if n == 0 {
						return
					}
				}
			}
		}
	}
	want := make([]byte, 2<<20)
	for i := range want {
		want[i] = byte(i * 2654435761 >> 11)
	}
	c, err := h1.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(h2Addr, 5002))
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	c.OnWritable = func() {
		for sent < len(want) {
			n, err := c.Send(want[sent:])
			if n == 0 || err != nil {
				return
			}
			sent += n
		}
		c.CloseWrite()
	}
	sim := w.Stack.Sim
	start := sim.Now()
	sim.RunWhile(func() bool { return !done && sim.Now()-start < time.Minute })
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("received %d of %d bytes (or different bytes)", got.Len(), len(want))
	}
	if n := r.IPv4.Stats.FragFails; n == 0 {
		t.Fatal("r refused no DF segment: the path MTU was never tested")
	}
	rt, err := h1.IPv4.RouteOutput(&ipv4.FlowKey{Dst: h2Addr})
	if err != nil || rt.MTU != 1000 {
		t.Fatalf("h1's route to h2: mtu %d (%v), want the learned 1000", rt.MTU, err)
	}
	if tooBig > 0 {
		t.Fatalf("%d of %d TCP segments forwarded onto the 1000-byte link were larger than it", tooBig, segs)
	}
	t.Logf("%d segments on the narrow link, %d refused at r, done in %v", segs, r.IPv4.Stats.FragFails, sim.Now()-start)
}

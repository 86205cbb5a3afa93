package tcp_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
)

// TestEarlyDemux: once an established connection received a segment,
// the next ones of its flow on the same device and under the same route
// generation take its cached input route (tcp_v4_early_demux); another
// device, another flow, a routing change or tcp_early_demux=0 do not.
func TestEarlyDemux(t *testing.T) {
	w := newWorld(t, 1, 1500)
	cli, srv, _ := w.connect(80)
	buf := make([]byte, 64)
	sendRecv(t, w, cli, srv, []byte("x"), buf, "warm-up")
	h := make([]byte, 24)
	h[0], h[9] = 0x45, 6
	la, ra := srv.LocalAddr(), srv.RemoteAddr()
	copy(h[12:16], ra.Addr().AsSlice())
	copy(h[16:20], la.Addr().AsSlice())
	binary.BigEndian.PutUint16(h[20:], ra.Port())
	binary.BigEndian.PutUint16(h[22:], la.Port())
	var gen uint64
	demux := func(h []byte, iif int) (hit bool) {
		w.b.Exec().Do(func() {
			gen, _ = w.b.IPv4.RouteGen()
			hit = w.b.TCP.EarlyDemux(h, iif, gen)
		})
		return hit
	}
	if !demux(h, w.db.Ifindex()) {
		t.Fatal("no early demux for the established flow")
	}
	if demux(h, w.db.Ifindex()+1) {
		t.Fatal("early demux for a segment from another device")
	}
	other := append([]byte(nil), h...)
	other[21]++
	if demux(other, w.db.Ifindex()) {
		t.Fatal("early demux for another flow")
	}
	if demux(h[:21], w.db.Ifindex()) {
		t.Fatal("early demux without the ports")
	}
	w.b.Exec().Do(func() {
		g := gen
		w.b.FIB.UpdatePMTU(ra.Addr(), 1400, w.st.Sim.Now())
		if gen, _ = w.b.IPv4.RouteGen(); gen == g || w.b.TCP.EarlyDemux(h, w.db.Ifindex(), gen) {
			t.Error("early demux under a new route generation")
		}
	})
	// The next segment received revalidates.
	sendRecv(t, w, cli, srv, []byte("y"), buf, "after the change")
	if !demux(h, w.db.Ifindex()) {
		t.Fatal("no early demux after the next segment")
	}
}

// TestEarlyDemuxStale: segments of an established connection are routed
// as without early demux after the receiver's routing changes: with its
// address gone or the local-table rule deleted they are not delivered
// (forwarding is off), and once restored they are. With
// tcp_early_demux=0 the same holds.
func TestEarlyDemuxStale(t *testing.T) {
	for _, on := range []bool{true, false} {
		w := newWorld(t, 1, 1500)
		w.b.Exec().Do(func() { w.b.IPv4.Sysctl.TCPEarlyDemux = on })
		cli, srv, _ := w.connect(80)
		f := w.b.FIB
		local := fib.Rule{Priority: 0, Action: unix.FR_ACT_TO_TBL, Table: unix.RT_TABLE_LOCAL, SuppressPrefixLen: -1, SuppressIfgroup: -1}
		cases := []struct {
			name       string
			block, fix func() error
		}{
			{"address deleted", func() error { return w.b.IPv4.DelAddr(w.db, addrB, 24) },
				func() error {
					_, err := w.b.IPv4.AddAddr(ipv4.IfAddr{Dev: w.db, Local: addrB, Prefix: ipv4Prefix(addrB)})
					return err
				}},
			{"local rule deleted", func() error { return f.DelRule(fib.Rule{Table: unix.RT_TABLE_LOCAL}, fib.Info{}) },
				func() error { return f.AddRule(local, unix.NLM_F_CREATE, fib.Info{}) }},
		}
		buf := make([]byte, 4096)
		msg := []byte("through early demux")
		for _, c := range cases {
			sendRecv(t, w, cli, srv, msg, buf, c.name+" (before)")
			sendRecv(t, w, cli, srv, msg, buf, c.name+" (before, demuxed)")
			var err error
			w.b.Exec().Do(func() { err = c.block() })
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			before := w.b.IPv4.Stats.InDelivers
			if _, err := cli.Send(msg); err != nil {
				t.Fatalf("%s: send: %v", c.name, err)
			}
			w.st.Sim.RunFor(300 * time.Millisecond)
			if k, _, _ := srv.Recv(buf); k != 0 || w.b.IPv4.Stats.InDelivers != before {
				t.Fatalf("early demux %v, %s: %d bytes, %d datagrams delivered over a stale route",
					on, c.name, k, w.b.IPv4.Stats.InDelivers-before)
			}
			w.b.Exec().Do(func() { err = c.fix() })
			if err != nil {
				t.Fatalf("%s undone: %v", c.name, err)
			}
			got := 0
			if !w.run(60*time.Second, func() bool {
				k, _, _ := srv.Recv(buf)
				got += k
				return got == len(msg)
			}) {
				t.Fatalf("early demux %v, %s undone: %d bytes arrived", on, c.name, got)
			}
		}
	}
}

func ipv4Prefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, 24) }

package host

import (
	"fmt"
	"net/netip"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
	"github.com/usnet/usnet/tcp"
)

// dsackStep is a data segment at an offset from the first byte the
// receiver expects, and the ACK it draws: the acknowledged offset and the
// blocks, the D-SACK block first.
type dsackStep struct {
	name   string
	off    uint32
	n      int
	ack    uint32
	blocks [][2]uint32
}

// dsackSteps overlap out-of-order data in every way tcp_data_queue_ofo
// and tcp_ofo_queue tell apart.
var dsackSteps = []dsackStep{
	{"first out-of-order", 1000, 1000, 0, [][2]uint32{{1000, 2000}}},
	{"exact duplicate", 1000, 1000, 0, [][2]uint32{{1000, 2000}, {1000, 2000}}},
	{"inside held data", 1200, 600, 0, [][2]uint32{{1200, 1800}, {1000, 2000}}},
	{"partial overlap", 1500, 1000, 0, [][2]uint32{{1500, 2000}, {1000, 2500}}},
	{"disjoint", 3000, 1000, 0, [][2]uint32{{3000, 4000}, {1000, 2500}}},
	{"covers the next", 2800, 1700, 0, [][2]uint32{{3000, 4000}, {2800, 4500}, {1000, 2500}}},
	{"same start, longer", 2800, 1800, 0, [][2]uint32{{2800, 4500}, {2800, 4600}, {1000, 2500}}},
	{"in order, overlapping the queue", 0, 1200, 2500, [][2]uint32{{1000, 1200}, {2800, 4600}}},
	{"retransmission across rcv_nxt", 2400, 400, 4600, [][2]uint32{{2400, 2500}}},
	{"old duplicate", 100, 100, 4600, [][2]uint32{{100, 200}}},
}

// TestHostDSACKMatchesKernel sends the steps to a kernel receiver and
// wants its ACKs to be the table's, which tcp's
// TestDSACKOutOfOrderDuplicates wants from usnet's receiver.
func TestHostDSACKMatchesKernel(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("needs socat (test.sh installs it)")
	}
	r := backends(t)["tap"](t)
	sink := exec.Command("ip", "netns", "exec", r.kns, "socat", "-u", "TCP4-LISTEN:9003,bind=10.99.0.1,reuseaddr", "OPEN:/dev/null")
	if err := sink.Start(); err != nil {
		t.Fatal(err)
	}
	defer sink.Process.Kill()
	// usnet is the sender here: no timestamps, so forged segments need
	// no options.
	r.ns.Exec().Do(func() { r.ns.TCP.Sysctl.Timestamps = false })
	// Sequence numbers from the handshake: usnet's SYN and the kernel's
	// SYN-ACK.
	var mu sync.Mutex
	var base, ack uint32
	var remove func()
	r.ns.Exec().Do(func() {
		remove = r.ns.Dev.AddTap(r.dev, func(_ *netdev.Device, b *skb.Buf, dir netdev.Direction, _ int64) {
			fr := b.Bytes()
			if len(fr) < 14+40 || fr[12] != 8 || fr[13] != 0 || fr[14+9] != 6 {
				return
			}
			h := header.TCP(fr[14+int(fr[14]&15)*4:])
			mu.Lock()
			defer mu.Unlock()
			switch {
			case dir == netdev.DirOut && h.Flags() == header.TCPFlagSYN && h.DstPort() == 9003:
				base = h.Seq() + 1
			case dir == netdev.DirIn && h.Flags() == header.TCPFlagSYN|header.TCPFlagACK && h.SrcPort() == 9003:
				ack = h.Seq() + 1
			}
		})
	})
	var c *tcp.Conn
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		var err error
		r.ns.Exec().Do(func() {
			if c == nil || c.State() == tcp.Closed {
				c, err = r.ns.TCP.Connect(netip.AddrPort{}, netip.MustParseAddrPort("10.99.0.1:9003"))
			}
		})
		var ok bool
		r.ns.Exec().Do(func() { ok = err == nil && c.Established() })
		if ok {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("connect to the kernel: %v", err)
		}
	}
	// From here the kernel's segments are recorded and kept from usnet's
	// connection, which would answer ACKs of data it never sent.
	r.ns.Exec().Do(remove)
	var got []header.TCP
	port := c.LocalAddr().Port()
	r.ns.Exec().Do(func() {
		r.dev.SetRxHandler(func(_ *netdev.Device, b *skb.Buf) netdev.RxResult {
			fr := b.Bytes()
			if len(fr) < 14+40 || fr[12] != 8 || fr[13] != 0 || fr[14+9] != 6 {
				return netdev.RxPass
			}
			h := header.TCP(fr[14+int(fr[14]&15)*4:])
			if h.DstPort() != port {
				return netdev.RxPass
			}
			mu.Lock()
			got = append(got, append(header.TCP(nil), h...))
			mu.Unlock()
			b.Free()
			return netdev.RxConsumed
		})
	})
	defer r.ns.Exec().Do(func() { r.dev.SetRxHandler(nil); c.Abort() })
	mu.Lock()
	if base == 0 || ack == 0 {
		t.Fatalf("handshake not seen")
	}
	mu.Unlock()
	for _, s := range dsackSteps {
		mu.Lock()
		got = got[:0]
		mu.Unlock()
		forgeSeg(t, r.ns, c, base+s.off, ack, s.n)
		var h header.TCP
		for start := time.Now(); h == nil && time.Since(start) < 2*time.Second; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			if len(got) > 0 {
				h = got[0]
			}
			mu.Unlock()
		}
		if h == nil {
			t.Fatalf("%s: the kernel did not answer", s.name)
		}
		a, b := describeAck(h, base), describeStep(s)
		if a != b {
			t.Errorf("%s: kernel %s, want %s", s.name, a, b)
		}
		t.Logf("%s: kernel %s", s.name, a)
		time.Sleep(20 * time.Millisecond)
	}
}

// forgeSeg sends n bytes at seq from c's side, acknowledging ack.
func forgeSeg(t *testing.T, ns *stack.Namespace, c *tcp.Conn, seq, ack uint32, n int) {
	t.Helper()
	la, ra := c.LocalAddr(), c.RemoteAddr()
	ns.Exec().Do(func() {
		rt, err := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: ra.Addr(), Src: la.Addr(), Proto: 6})
		if err != nil {
			t.Fatal(err)
		}
		b := ns.Dev.Pool().Get(skb.DefaultHeadroom, 20+n)
		h := header.TCP(b.Put(20 + n))
		clear(h)
		h.SetSrcPort(la.Port())
		h.SetDstPort(ra.Port())
		h.SetSeq(seq)
		h.SetAck(ack)
		h[12] = 5 << 4
		h.SetFlags(header.TCPFlagACK)
		h.SetWindow(65535)
		h.FillChecksum(la.Addr(), ra.Addr())
		ns.IPv4.Output(b, la.Addr(), ra.Addr(), 6, &rt, ipv4.SendOpts{})
	})
}

func describeAck(h header.TCP, base uint32) string {
	var o header.TCPOptions
	h.ParseOptions(&o)
	s := fmt.Sprintf("ack %d", h.Ack()-base)
	for i := range o.NumSACK {
		s += fmt.Sprintf(" [%d,%d)", o.SACK[i].Start-base, o.SACK[i].End-base)
	}
	return s
}

func describeStep(s dsackStep) string {
	d := fmt.Sprintf("ack %d", s.ack)
	for _, b := range s.blocks {
		d += fmt.Sprintf(" [%d,%d)", b[0], b[1])
	}
	return d
}

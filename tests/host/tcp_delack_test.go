package host

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
	"github.com/usnet/usnet/tcp"
)

// The delayed-ACK comparison feeds a kernel receiver and a usnet
// receiver the same segments from the same sender, a usnet connection
// whose data segments the test forges (so their sizes, flags and timing
// are exactly the pattern's), and counts the ACKs each receiver sends.
// The kernel is reached over a TAP, the usnet receiver over an
// in-process veth; neither path coalesces received segments. Only counts
// are compared, never times: the host kernel's jiffies may be of HZ 250
// (ato in steps of 4 ms) where usnet counts HZ 1000, and both run in real
// time on a shared machine.

// ackPeer is a receiver and the usnet namespace that sends to it.
type ackPeer struct {
	name   string
	ns     *stack.Namespace // the sender's
	dev    *netdev.Device   // the sender's device towards the receiver
	addr   netip.Addr       // the receiver's
	listen func(t *testing.T, port uint16) net.Listener
}

// kernelPeer is a kernel receiver over a TAP.
func kernelPeer(t *testing.T) ackPeer {
	r := backends(t)["tap"](t)
	sh(t, "ip", "netns", "exec", r.kns, "sysctl", "-qw", "net.ipv4.tcp_rmem=4096 131072 33554432")
	return ackPeer{name: "kernel", ns: r.ns, dev: r.dev, addr: kernelIP,
		listen: func(t *testing.T, port uint16) net.Listener {
			var l net.Listener
			if err := framedio.InNetns(r.path, func() error {
				var err error
				l, err = net.Listen("tcp4", netip.AddrPortFrom(kernelIP, port).String())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return l
		}}
}

// usnetPeer is a usnet receiver: a second namespace of a real-time stack,
// joined to the sender's by a veth.
func usnetPeer(t *testing.T) ackPeer {
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Add("s")
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Add("r")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Delete("s"); st.Delete("r") })
	ds, dr, err := veth.Create(veth.End{Table: s.Dev, Name: "eth0"}, veth.End{Table: r.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	up(t, s, ds)
	up(t, r, dr)
	addIP(t, s, ds, "10.98.0.1/24")
	addIP(t, r, dr, "10.98.0.2/24")
	addr := netip.MustParseAddr("10.98.0.2")
	return ackPeer{name: "usnet", ns: s, dev: ds, addr: addr,
		listen: func(t *testing.T, port uint16) net.Listener {
			l, err := r.Listen("tcp", netip.AddrPortFrom(addr, port).String())
			if err != nil {
				t.Fatal(err)
			}
			return l
		}}
}

// serveConns runs fn on every connection l accepts.
func serveConns(l net.Listener, fn func(net.Conn)) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { fn(c); c.Close() }()
		}
	}()
}

func sinkConn(c net.Conn) { io.Copy(io.Discard, c) }

func idleConn(c net.Conn) {
	var b [1]byte
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	time.Sleep(5 * time.Second) // then drain, so the close is orderly
	c.Read(b[:])
}

// quickAckOff sets TCP_QUICKACK 0 on a kernel or usnet connection, then
// reads it to the end.
func quickAckOff(c net.Conn) {
	if k, ok := c.(*net.TCPConn); ok {
		if rc, err := k.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 0) })
		}
	} else if u, ok := c.(interface{ SetQuickAck(bool) error }); ok {
		u.SetQuickAck(false)
	}
	sinkConn(c)
}

func echoConn(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

// rxSeg is a segment the receiver sent.
type rxSeg struct {
	flags header.TCPFlags
	ack   uint32
	n     int
	win   uint16
	at    time.Duration
}

// tcpOf returns the TCP header and payload length of an IPv4/TCP frame.
func tcpOf(fr []byte) (header.TCP, int, bool) {
	if len(fr) < 14+40 || fr[12] != 8 || fr[13] != 0 || fr[14+9] != 6 {
		return nil, 0, false
	}
	ihl := int(fr[14]&15) * 4
	h := header.TCP(fr[14+ihl:])
	if len(h) < 20 {
		return nil, 0, false
	}
	tot := int(binary.BigEndian.Uint16(fr[16:]))
	return h, tot - ihl - h.HeaderLen(), true
}

// forger is a usnet connection to the peer whose data the test forges;
// the receiver's segments are recorded and kept from it.
type forger struct {
	t         *testing.T
	p         ackPeer
	c         *tcp.Conn
	base, ack uint32 // our first sequence number, the receiver's
	off       uint32
	start     time.Time
	mu        sync.Mutex
	got       []rxSeg
}

func newForger(t *testing.T, p ackPeer, port uint16) *forger {
	f := &forger{t: t, p: p}
	var remove func()
	p.ns.Exec().Do(func() {
		p.ns.TCP.Sysctl.Timestamps = false // forged segments carry no options
		remove = p.ns.Dev.AddTap(p.dev, func(_ *netdev.Device, b *skb.Buf, dir netdev.Direction, _ int64) {
			h, _, ok := tcpOf(b.Bytes())
			if !ok {
				return
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			switch {
			case dir == netdev.DirOut && h.Flags() == header.TCPFlagSYN && h.DstPort() == port:
				f.base = h.Seq() + 1
			case dir == netdev.DirIn && h.Flags() == header.TCPFlagSYN|header.TCPFlagACK && h.SrcPort() == port:
				f.ack = h.Seq() + 1
			}
		})
	})
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		var err error
		var ok bool
		p.ns.Exec().Do(func() {
			if f.c == nil || f.c.State() == tcp.Closed {
				f.c, err = p.ns.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(p.addr, port))
			}
			ok = err == nil && f.c.Established()
		})
		if ok {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s: connect: %v", p.name, err)
		}
	}
	p.ns.Exec().Do(remove)
	lport := f.c.LocalAddr().Port()
	var err error
	p.ns.Exec().Do(func() {
		err = p.dev.SetRxHandler(func(_ *netdev.Device, b *skb.Buf) netdev.RxResult {
			h, n, ok := tcpOf(b.Bytes())
			if !ok || h.DstPort() != lport {
				return netdev.RxPass
			}
			f.mu.Lock()
			f.got = append(f.got, rxSeg{flags: h.Flags(), ack: h.Ack() - f.base, n: n, win: h.Window(), at: time.Since(f.start)})
			f.mu.Unlock()
			b.Free()
			return netdev.RxConsumed
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.base == 0 || f.ack == 0 {
		t.Fatalf("%s: handshake not seen", p.name)
	}
	return f
}

// close aborts the connection and gives the device back.
func (f *forger) close() {
	f.p.ns.Exec().Do(func() { f.p.dev.SetRxHandler(nil); f.c.Abort() })
}

// burst forges segments of the given sizes back to back, PSH on each if
// psh.
func (f *forger) burst(psh bool, sizes ...int) {
	la, ra := f.c.LocalAddr(), f.c.RemoteAddr()
	flags := header.TCPFlagACK
	if psh {
		flags |= header.TCPFlagPSH
	}
	ns := f.p.ns
	ns.Exec().Do(func() {
		rt, err := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: ra.Addr(), Src: la.Addr(), Proto: 6})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, n := range sizes {
			b := ns.Dev.Pool().Get(skb.DefaultHeadroom, 20+n)
			h := header.TCP(b.Put(20 + n))
			clear(h)
			h.SetSrcPort(la.Port())
			h.SetDstPort(ra.Port())
			h.SetSeq(f.base + f.off)
			h.SetAck(f.ack)
			h[12] = 5 << 4
			h.SetFlags(flags)
			h.SetWindow(65535)
			h.FillChecksum(la.Addr(), ra.Addr())
			ns.IPv4.Output(b, la.Addr(), ra.Addr(), 6, &rt, ipv4.SendOpts{})
			f.off += uint32(n)
		}
	})
}

// acks waits for the receiver to acknowledge everything (its delayed
// ACK included) and returns how many segments it sent that acknowledge
// more than from bytes.
func (f *forger) acks(from uint32) int {
	deadline := time.Now().Add(3 * time.Second)
	for {
		f.mu.Lock()
		done := len(f.got) > 0 && f.got[len(f.got)-1].ack == f.off
		f.mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything later
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) == 0 || f.got[len(f.got)-1].ack != f.off {
		f.t.Errorf("%s: %d bytes sent, last ACK %+v", f.p.name, f.off, f.got)
	}
	k := 0
	for _, g := range f.got {
		if g.ack > from {
			k++
		}
	}
	return k
}

// delackPattern is a sequence of bursts a forger sends with a pause
// after each.
type delackPattern struct {
	name   string
	serve  func(net.Conn)
	bursts int
	sizes  []int
	psh    bool
	pause  time.Duration
	from   int // count the ACKs beyond this many segments
}

var delackPatterns = []delackPattern{
	// Full segments to a reader: quick ACKs for the first 16, then one
	// ACK per two segments (__tcp_ack_snd_check) while the reader keeps
	// the window from shrinking, else its reads' ACKs
	// (tcp_cleanup_rbuf); once autotuning grows the buffer, every
	// segment that raises rcv_ssthresh asks for a quick ACK
	// (tcp_grow_window), so in the end both send nearly one per segment.
	{"bulk", sinkConn, 20, []int{1460, 1460, 1460, 1460, 1460, 1460, 1460, 1460, 1460, 1460}, false, 2 * time.Millisecond, 0},
	// Half-MSS segments: rcv_mss is measured at 730, so the same.
	{"half-MSS", sinkConn, 20, []int{730, 730, 730, 730, 730, 730, 730, 730, 730, 730}, false, 2 * time.Millisecond, 0},
	// Half-MSS with PSH, one at a time: the reader drains each and
	// acknowledges it (ICSK_ACK_PUSHED, tcp_cleanup_rbuf).
	{"half-MSS pushed", sinkConn, 40, []int{730}, true, 5 * time.Millisecond, 0},
	// Small segments of one size: after two they are rcv_mss.
	{"small", sinkConn, 20, []int{200, 200, 200, 200, 200, 200}, false, 2 * time.Millisecond, 0},
	// A receiver that does not read: its window shrinks with each
	// segment, so it delays; only its delayed ACK for the last ones
	// counts. Before, the kernel grows rcv_ssthresh (and so asks for
	// quick ACKs) for a few more segments than usnet, whose window counts
	// payload rather than truesize (tcp/doc.go).
	{"not reading", idleConn, 10, []int{1460, 1460, 1460, 1460}, false, 3 * time.Millisecond, 24},
	// TCP_QUICKACK 0 on the reader: interactive mode, so no quick ACKs
	// for the first segments; one ACK per two (more than rcv_mss), the
	// reads' ACKs of pushed segments held (tcp_cleanup_rbuf in pingpong
	// mode). Quick-ack mode would acknowledge each of the first 16.
	{"quick-ack off", quickAckOff, 20, []int{730}, true, 5 * time.Millisecond, 0},
}

// TestHostTCPDelayedAckMatchesKernel sends the patterns to a kernel
// receiver and a usnet receiver and wants about the same number of ACKs
// from both, and a request/response exchange whose replies carry the
// ACKs: the kernel's and usnet's servers send (about) one pure ACK, for
// the first request (quick-ack mode), then are interactive.
func TestHostTCPDelayedAckMatchesKernel(t *testing.T) {
	peers := []ackPeer{kernelPeer(t), usnetPeer(t)}
	for i, pat := range delackPatterns {
		port := uint16(9100 + i)
		var counts [2]int
		var gots [2][]rxSeg
		for j, p := range peers {
			l := p.listen(t, port)
			serveConns(l, pat.serve)
			f := newForger(t, p, port)
			time.Sleep(50 * time.Millisecond)
			f.start = time.Now()
			for range pat.bursts {
				f.burst(pat.psh, pat.sizes...)
				time.Sleep(pat.pause)
			}
			counts[j] = f.acks(uint32(pat.from * pat.sizes[0]))
			gots[j] = f.got
			f.close()
			l.Close()
		}
		segs := pat.bursts * len(pat.sizes)
		t.Logf("%s: %d segments: kernel %d ACKs, usnet %d (beyond segment %d)", pat.name, segs, counts[0], counts[1], pat.from)
		if d := counts[1] - counts[0]; d > max(2, counts[0]/10) || -d > max(2, counts[0]/10) {
			t.Errorf("%s: %d segments: usnet sent %d ACKs, the kernel %d", pat.name, segs, counts[1], counts[0])
			for j, p := range peers {
				for _, g := range gots[j] {
					t.Logf("%s: ack %d (%d segments) window %d at %v", p.name, g.ack, g.ack/uint32(pat.sizes[0]), g.win, g.at.Round(100*time.Microsecond))
				}
			}
		}
	}
	// Request/response with real connections: 30 requests of 100 bytes,
	// each answered at once, 10 ms apart.
	var pures [2]int
	for j, p := range peers {
		port := uint16(9200)
		l := p.listen(t, port)
		serveConns(l, echoConn)
		var mu sync.Mutex
		var n, data int
		var remove func()
		p.ns.Exec().Do(func() {
			remove = p.ns.Dev.AddTap(p.dev, func(_ *netdev.Device, b *skb.Buf, dir netdev.Direction, _ int64) {
				h, k, ok := tcpOf(b.Bytes())
				if !ok || dir != netdev.DirIn || h.SrcPort() != port {
					return
				}
				mu.Lock()
				if k == 0 && h.Flags() == header.TCPFlagACK {
					n++
				} else if k > 0 {
					data++
				}
				mu.Unlock()
			})
		})
		c, err := p.ns.Dial("tcp", netip.AddrPortFrom(p.addr, port).String())
		if err != nil {
			t.Fatal(err)
		}
		req, buf := make([]byte, 100), make([]byte, 100)
		for range 30 {
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.ReadFull(c, buf); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		p.ns.Exec().Do(remove)
		c.Close()
		l.Close()
		mu.Lock()
		pures[j] = n
		t.Logf("request/response, %s server: %d replies, %d pure ACKs", p.name, data, n)
		mu.Unlock()
	}
	if pures[0] > 2 || pures[1] > 2 {
		t.Errorf("request/response: pure ACKs kernel %d, usnet %d; want the replies to carry the ACKs", pures[0], pures[1])
	}
}

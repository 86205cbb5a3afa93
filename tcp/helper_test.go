package tcp_test

import (
	"crypto/sha256"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
	"github.com/usnet/usnet/tcp"
)

// world is two namespaces, a (10.9.0.1) and b (10.9.0.2), joined by a
// veth on a simulation.
type world struct {
	t      testing.TB
	st     *stack.Stack
	a, b   *stack.Namespace
	da, db *netdev.Device
}

var (
	addrA = netip.MustParseAddr("10.9.0.1")
	addrB = netip.MustParseAddr("10.9.0.2")
)

func newWorld(t testing.TB, seed uint64, mtu int) *world {
	t.Helper()
	st, err := stack.NewSim(seed)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Add("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Add("b")
	if err != nil {
		t.Fatal(err)
	}
	da, db, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0", MTU: mtu}, veth.End{Table: b.Dev, Name: "eth0", MTU: mtu})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		ns *stack.Namespace
		d  *netdev.Device
		ip netip.Addr
	}{{a, da, addrA}, {b, db, addrB}} {
		x.ns.Exec().Do(func() {
			x.ns.Lo.Up()
			x.d.Up()
			_, err = x.ns.IPv4.AddAddr(ipv4.IfAddr{Dev: x.d, Local: x.ip, Prefix: netip.PrefixFrom(x.ip, 24)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	w := &world{t: t, st: st, a: a, b: b, da: da, db: db}
	st.Sim.RunFor(time.Millisecond)
	return w
}

// netem installs the same impairment on both directions.
func (w *world) netem(cfg sched.NetemConfig) {
	w.a.Exec().Do(func() { w.da.SetQdisc(sched.NewNetem(cfg, w.a.Exec().Rand(), w.st.Pool())) })
	w.b.Exec().Do(func() { w.db.SetQdisc(sched.NewNetem(cfg, w.b.Exec().Rand(), w.st.Pool())) })
}

// run advances virtual time until cond holds or limit passes.
func (w *world) run(limit time.Duration, cond func() bool) bool {
	end := w.st.Sim.Now() + limit
	for !cond() {
		if w.st.Sim.Now() >= end {
			return false
		}
		w.st.Sim.RunFor(time.Millisecond)
	}
	return true
}

// connect sets up a listener on b:port and a connection from a, returning
// both ends once established.
func (w *world) connect(port uint16) (cli, srv *tcp.Conn, l *tcp.Listener) {
	w.t.Helper()
	var err error
	l, err = w.b.TCP.Listen(netip.AddrPortFrom(addrB, port), 128)
	if err != nil {
		w.t.Fatal(err)
	}
	cli, err = w.a.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(addrB, port))
	if err != nil {
		w.t.Fatal(err)
	}
	if !w.run(10*time.Second, func() bool {
		if srv == nil {
			srv = l.Accept()
		}
		return srv != nil && cli.State() == tcp.Established
	}) {
		w.t.Fatalf("handshake: client %v err %v, server %v", cli.State(), cli.Err(), srv)
	}
	return cli, srv, l
}

// transfer sends n pseudo-random bytes from src to dst and checks the
// sha256 of what arrives; it returns the virtual time it took.
func (w *world) transfer(src, dst *tcp.Conn, n int, limit time.Duration) time.Duration {
	w.t.Helper()
	return w.transferWatch(src, dst, n, limit, nil)
}

// transferWatch is transfer calling watch every simulated millisecond.
func (w *world) transferWatch(src, dst *tcp.Conn, n int, limit time.Duration, watch func()) time.Duration {
	w.t.Helper()
	start := w.st.Sim.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	chunk := make([]byte, 64<<10)
	hs, hd := sha256.New(), sha256.New()
	var pending []byte
	sent, got := 0, 0
	buf := make([]byte, 256<<10)
	closed := false
	eof := false
	pump := func() {
		for sent < n {
			if len(pending) == 0 {
				m := min(len(chunk), n-sent)
				for i := 0; i < m; i += 8 {
					v := rng.Uint64()
					for j := 0; j < 8 && i+j < m; j++ {
						chunk[i+j] = byte(v >> (8 * j))
					}
				}
				pending = chunk[:m]
				hs.Write(pending)
			}
			k, err := src.Send(pending)
			if err != nil {
				w.t.Fatalf("send after %d: %v", sent, err)
			}
			if k == 0 {
				break
			}
			pending = pending[k:]
			sent += k
		}
		if sent == n && !closed {
			src.CloseWrite()
			closed = true
		}
		for !eof {
			k, e, err := dst.Recv(buf)
			if err != nil {
				w.t.Fatalf("recv after %d: %v", got, err)
			}
			if e {
				eof = true
			}
			if k == 0 {
				break
			}
			hd.Write(buf[:k])
			got += k
		}
	}
	if !w.run(limit, func() bool {
		pump()
		if watch != nil {
			watch()
		}
		return eof
	}) {
		w.t.Fatalf("transfer stalled: sent %d got %d of %d; src %v %+v dst %v %+v", sent, got, n, src.State(), src.TCPInfo(), dst.State(), dst.TCPInfo())
	}
	if got != n || string(hs.Sum(nil)) != string(hd.Sum(nil)) {
		w.t.Fatalf("transfer corrupted: got %d of %d bytes, hash mismatch", got, n)
	}
	return w.st.Sim.Now() - start
}

var lossy = sched.NetemConfig{Loss: 0.02, Delay: 2 * time.Millisecond, Reorder: 0.02, Duplicate: 0.01}

// forgeRST injects an RST from from's side with sequence snd_nxt+off.
func forgeRST(t testing.TB, w *world, from *tcp.Conn, off uint32) {
	t.Helper()
	forgeSeg(t, w, from, header.TCPFlagRST, off)
}

// forgeSYN injects, from a's side, a SYN from src:sport to dst.
func forgeSYN(t testing.TB, w *world, src netip.Addr, sport uint16, dst netip.AddrPort) {
	t.Helper()
	ns := w.a
	ns.Exec().Do(func() {
		rt, err := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: dst.Addr(), Proto: 6})
		if err != nil {
			t.Fatal(err)
		}
		b := w.st.Pool().Get(skb.DefaultHeadroom, 24)
		h := header.TCP(b.Put(24))
		clear(h)
		h.SetSrcPort(sport)
		h.SetDstPort(dst.Port())
		h.SetSeq(uint32(sport) * 7919)
		h[12] = 6 << 4
		h.SetFlags(header.TCPFlagSYN)
		h.SetWindow(65535)
		o := header.TCPOptions{HasMSS: true, MSS: 1460}
		o.Encode(h[20:])
		h.FillChecksum(src, dst.Addr())
		ns.IPv4.Output(b, src, dst.Addr(), 6, &rt, ipv4.SendOpts{})
	})
}

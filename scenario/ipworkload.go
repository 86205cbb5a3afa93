package scenario

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"time"
)

// Addresses of the default topology.
var (
	h1Addr = netip.MustParseAddr("10.0.1.2")
	h2Addr = netip.MustParseAddr("10.0.2.2")
)

// IPTopology is DefaultTopology with IPv4: h1 10.0.1.2/24 — r (10.0.1.1,
// 10.0.2.1, forwarding) — h2 10.0.2.2/24, hosts routing by default via r.
func IPTopology() Topology {
	t := DefaultTopology()
	t.Addrs = []Addr{
		{NS: "h1", Dev: "eth0", Prefix: netip.MustParsePrefix("10.0.1.2/24")},
		{NS: "r", Dev: "eth0", Prefix: netip.MustParsePrefix("10.0.1.1/24")},
		{NS: "r", Dev: "eth1", Prefix: netip.MustParsePrefix("10.0.2.1/24")},
		{NS: "h2", Dev: "eth0", Prefix: netip.MustParsePrefix("10.0.2.2/24")},
	}
	t.Forwarding = []string{"r"}
	t.Routes = []Route{
		{NS: "h1", Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.1.1")},
		{NS: "h2", Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.2.1")},
	}
	return t
}

// PingUDPWorkload pings h2 from h1 count times (one second apart, as ping
// does) and then sends count UDP datagrams from h1 to an echo socket on
// h2, checking every reply.
func PingUDPWorkload(count int) Workload {
	return func(w *World, res map[string]any) error {
		sim := w.Stack.Sim
		sim.RunFor(settle)
		h1, h2 := w.NS["h1"], w.NS["h2"]

		ps, err := h1.Ping.NewSock(0)
		if err != nil {
			return err
		}
		defer ps.Close()
		var rtts []string
		replies := 0
		for seq := 1; seq <= count; seq++ {
			sent := sim.Now()
			payload := []byte(fmt.Sprintf("usnet ping %d", seq))
			if err := ps.SendEcho(h2Addr, uint16(seq), payload, 0); err != nil {
				return fmt.Errorf("ping %d: %w", seq, err)
			}
			got := false
			sim.RunWhile(func() bool {
				if got {
					return false
				}
				r, err, ok := ps.Recv()
				if !ok {
					return sim.Now()-sent < time.Second
				}
				if err == nil {
					got = true
					replies++
					rtts = append(rtts, (sim.Now() - sent).String())
					r.Buf.Free()
				}
				return !got
			})
			sim.RunFor(time.Second - (sim.Now() - sent))
		}
		res["ping_sent"] = count
		res["ping_received"] = replies
		res["ping_rtt"] = rtts

		srv := h2.UDP.NewSock()
		if err := srv.Bind(netip.AddrPortFrom(h2Addr, 7)); err != nil {
			return err
		}
		defer srv.Close()
		srv.OnReadable = func() {
			for {
				d, err, ok := srv.Recv()
				if !ok {
					return
				}
				if err == nil {
					srv.SendTo(d.Buf.Bytes(), d.From)
					d.Buf.Free()
				}
			}
		}
		cli := h1.UDP.NewSock()
		defer cli.Close()
		if err := cli.Connect(netip.AddrPortFrom(h2Addr, 7)); err != nil {
			return err
		}
		echoed := 0
		for i := 0; i < count; i++ {
			msg := bytes.Repeat([]byte{byte('a' + i%26)}, 100+i*400) // the larger ones are fragmented
			if err := cli.SendTo(msg, netip.AddrPort{}); err != nil {
				return fmt.Errorf("udp send %d: %w", i, err)
			}
			sim.RunFor(50 * time.Millisecond)
			if d, err, ok := cli.Recv(); ok && err == nil {
				if bytes.Equal(d.Buf.Bytes(), msg) {
					echoed++
				}
				d.Buf.Free()
			}
		}
		res["udp_sent"] = count
		res["udp_echoed"] = echoed
		if replies != count || echoed != count {
			return fmt.Errorf("ping %d/%d replies, udp %d/%d echoed", replies, count, echoed, count)
		}
		return tcpTransfer(w, res, 4<<20)
	}
}

// tcpTransfer sends size bytes over TCP from h1 to a sink on h2 and
// records the goodput and a digest of what arrived.
func tcpTransfer(w *World, res map[string]any, size int) error {
	sim := w.Stack.Sim
	h1, h2 := w.NS["h1"], w.NS["h2"]
	l, err := h2.TCP.Listen(netip.AddrPortFrom(h2Addr, 5001), 8)
	if err != nil {
		return err
	}
	defer l.Close()
	sum := sha256.New()
	got, done := 0, false
	buf := make([]byte, 64<<10)
	l.OnAcceptable = func() {
		c := l.Accept()
		if c == nil {
			return
		}
		c.OnReadable = func() {
			for {
				n, eof, err := c.Recv(buf)
				sum.Write(buf[:n])
				got += n
				if eof || err != nil {
					c.Close()
					done = true
					return
				}
				if n == 0 {
					return
				}
			}
		}
	}
	c, err := h1.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(h2Addr, 5001))
	if err != nil {
		return err
	}
	chunk := bytes.Repeat([]byte("usnet "), 10000)
	sent := 0
	c.OnWritable = func() {
		for sent < size {
			k, err := c.Send(chunk[:min(len(chunk), size-sent)])
			if err != nil || k == 0 {
				return
			}
			sent += k
		}
		c.CloseWrite()
	}
	start := sim.Now()
	sim.RunWhile(func() bool { return !done && sim.Now()-start < 10*time.Minute })
	took := sim.Now() - start
	res["tcp_bytes"] = got
	res["tcp_time"] = took.String()
	res["tcp_goodput_mbps"] = fmt.Sprintf("%.1f", float64(got)*8/took.Seconds()/1e6)
	res["tcp_sha256"] = fmt.Sprintf("%x", sum.Sum(nil))[:16]
	if got != size {
		return fmt.Errorf("tcp: %d of %d bytes arrived", got, size)
	}
	return nil
}

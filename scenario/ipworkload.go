package scenario

import (
	"bytes"
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
		return nil
	}
}

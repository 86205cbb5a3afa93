package sim

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/scenario"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/tcp"
)

// pairTopology is a and b on one link, 10.0.0.1 and 10.0.0.2.
func pairTopology(delay time.Duration, rate int64) scenario.Topology {
	return scenario.Topology{
		Namespaces: []string{"a", "b"},
		Links:      []scenario.Link{{A: "a", ADev: "eth0", B: "b", BDev: "eth0", MTU: 1500, Delay: delay, Rate: rate}},
		Addrs: []scenario.Addr{
			{NS: "a", Dev: "eth0", Prefix: netip.MustParsePrefix("10.0.0.1/24")},
			{NS: "b", Dev: "eth0", Prefix: netip.MustParsePrefix("10.0.0.2/24")},
		},
	}
}

type impairment struct {
	name string
	cfg  sched.NetemConfig
}

// transfer sends size bytes from a to b over TCP on virtual time and
// returns the receiver's hash, the sender's and the simulated duration.
func transfer(t *testing.T, seed uint64, size int, imp sched.NetemConfig) (got, want [32]byte, took time.Duration, info tcp.Info, frames uint64) {
	t.Helper()
	w, err := scenario.Build(pairTopology(0, 0), seed)
	if err != nil {
		t.Fatal(err)
	}
	sim := w.Stack.Sim
	a, b := w.NS["a"], w.NS["b"]
	for _, d := range []*netdev.Device{w.Dev("a", "eth0"), w.Dev("b", "eth0")} {
		ns := a
		if d == w.Dev("b", "eth0") {
			ns = b
		}
		d.SetQdisc(sched.NewNetem(imp, ns.Exec().Rand(), w.Stack.Pool()))
	}
	sim.RunFor(time.Millisecond)
	l, err := b.TCP.Listen(netip.MustParseAddrPort("10.0.0.2:5001"), 16)
	if err != nil {
		t.Fatal(err)
	}
	hr, hs := sha256.New(), sha256.New()
	received := 0
	done := false
	var srv *tcp.Conn
	buf := make([]byte, 64<<10)
	l.OnAcceptable = func() {
		srv = l.Accept()
		if srv == nil {
			return
		}
		srv.OnReadable = func() {
			for {
				n, eof, err := srv.Recv(buf)
				if err != nil {
					t.Errorf("receiver: %v", err)
					done = true
					return
				}
				hr.Write(buf[:n])
				received += n
				if eof {
					srv.Close()
					done = true
					return
				}
				if n == 0 {
					return
				}
			}
		}
	}
	cli, err := a.TCP.Connect(netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:5001"))
	if err != nil {
		t.Fatal(err)
	}
	// The payload is a deterministic pattern, generated as it is sent.
	sent := 0
	chunk := make([]byte, 32<<10)
	pump := func() {
		for sent < size {
			n := min(len(chunk), size-sent)
			for i := range chunk[:n] {
				chunk[i] = byte((sent + i) * 2654435761 >> 13)
			}
			k, err := cli.Send(chunk[:n])
			if err != nil {
				t.Errorf("sender: %v", err)
				done = true
				return
			}
			hs.Write(chunk[:k])
			sent += k
			if k < n {
				return
			}
		}
		cli.CloseWrite()
	}
	cli.OnWritable = pump
	start := sim.Now()
	sim.RunWhile(func() bool { return !done && sim.Now()-start < 30*time.Minute })
	if !done {
		t.Fatalf("transfer stuck: sent %d received %d of %d after %v (client %v, cwnd %d)", sent, received, size, sim.Now()-start, cli.State(), cli.Info.Cwnd)
	}
	if received != size {
		t.Fatalf("received %d of %d bytes", received, size)
	}
	copy(got[:], hr.Sum(nil))
	copy(want[:], hs.Sum(nil))
	frames = w.Dev("a", "eth0").Stats.TxPackets + w.Dev("b", "eth0").Stats.TxPackets
	return got, want, sim.Now() - start, cli.Info, frames
}

// TestTCPTransferUnderImpairments moves data byte-exact (hash compared)
// through loss, reordering, duplication, corruption, delay and a rate
// limit, through the whole stack (FIB, ARP, veth, netem). tcp's own
// TestImpairedTransfers moves 64 MiB per case.
func TestTCPTransferUnderImpairments(t *testing.T) {
	size := 8 << 20
	if testing.Short() {
		size = 1 << 20
	}
	cases := []impairment{
		{"clean", sched.NetemConfig{}},
		{"delay 20ms", sched.NetemConfig{Delay: 20 * time.Millisecond}},
		{"loss 1%", sched.NetemConfig{Delay: 5 * time.Millisecond, Loss: 0.01}},
		{"loss 5%", sched.NetemConfig{Delay: 5 * time.Millisecond, Loss: 0.05}},
		{"reorder", sched.NetemConfig{Delay: 10 * time.Millisecond, Reorder: 0.05}},
		{"duplicate", sched.NetemConfig{Delay: 2 * time.Millisecond, Duplicate: 0.05}},
		{"corrupt", sched.NetemConfig{Delay: 2 * time.Millisecond, Corrupt: 0.02}},
		{"rate 100Mb/s", sched.NetemConfig{Delay: 10 * time.Millisecond, Rate: 100e6, Limit: 100}},
		{"delay 200ms", sched.NetemConfig{Delay: 200 * time.Millisecond}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, want, took, info, _ := transfer(t, 42, size, c.cfg)
			if got != want {
				t.Fatalf("payload differs")
			}
			t.Logf("%d MiB in %v simulated (%.1f Mb/s), %d retransmits, srtt %v", size>>20, took, float64(size)*8/took.Seconds()/1e6, info.Retransmits, info.RTT)
		})
	}
}

// TestTCPDeterministic: the same seed gives the same run, frame count and
// duration included.
func TestTCPDeterministic(t *testing.T) {
	cfg := sched.NetemConfig{Delay: 5 * time.Millisecond, Loss: 0.02, Reorder: 0.02}
	_, _, t1, _, f1 := transfer(t, 9, 2<<20, cfg)
	_, _, t2, _, f2 := transfer(t, 9, 2<<20, cfg)
	if t1 != t2 || f1 != f2 {
		t.Fatalf("two runs with one seed differ: %v/%d frames vs %v/%d", t1, f1, t2, f2)
	}
}

func TestTCPRefusedAndReset(t *testing.T) {
	w, err := scenario.Build(pairTopology(time.Millisecond, 0), 3)
	if err != nil {
		t.Fatal(err)
	}
	sim := w.Stack.Sim
	sim.RunFor(time.Millisecond)
	a, b := w.NS["a"], w.NS["b"]
	c, err := a.TCP.Connect(netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:9"))
	if err != nil {
		t.Fatal(err)
	}
	sim.RunFor(100 * time.Millisecond)
	if fmt.Sprint(c.Err()) != "connection refused" {
		t.Fatalf("connect to a closed port: %v", c.Err())
	}
	l, _ := b.TCP.Listen(netip.MustParseAddrPort("0.0.0.0:80"), 4)
	c, _ = a.TCP.Connect(netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:80"))
	sim.RunFor(100 * time.Millisecond)
	s := l.Accept()
	if s == nil || !c.Established() {
		t.Fatalf("handshake: server %v client %v", s, c.State())
	}
	s.Abort()
	sim.RunFor(100 * time.Millisecond)
	if fmt.Sprint(c.Err()) != "connection reset by peer" {
		t.Fatalf("after the peer's RST: %v", c.Err())
	}
	// Orderly close from both sides ends in TIME_WAIT for the first
	// closer, which expires after 60 s.
	c, _ = a.TCP.Connect(netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:80"))
	sim.RunFor(100 * time.Millisecond)
	s = l.Accept()
	c.CloseWrite()
	sim.RunFor(100 * time.Millisecond)
	if s.State() != tcp.CloseWait || c.State() != tcp.FinWait2 {
		t.Fatalf("after one FIN: server %v client %v", s.State(), c.State())
	}
	s.CloseWrite()
	sim.RunFor(100 * time.Millisecond)
	if c.State() != tcp.TimeWait || s.State() != tcp.Closed {
		t.Fatalf("after both FINs: client %v server %v", c.State(), s.State())
	}
	sim.RunFor(61 * time.Second)
	if c.State() != tcp.Closed {
		t.Fatalf("TIME_WAIT did not expire: %v", c.State())
	}
}

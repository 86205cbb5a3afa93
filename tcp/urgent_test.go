package tcp_test

import (
	"errors"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp"
)

func recvAll(w *world, c *tcp.Conn) []byte {
	var out []byte
	buf := make([]byte, 64)
	for {
		var n int
		w.b.Exec().Do(func() { n, _, _ = c.Recv(buf) })
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

// TestUrgentData: by default (no SO_OOBINLINE) the urgent byte leaves the
// stream: a read stops at the mark, the byte comes from RecvOOB once, and
// the data on both sides of it arrives intact; with SO_OOBINLINE it stays
// in line.
func TestUrgentData(t *testing.T) {
	for _, inline := range []bool{false, true} {
		w := newWorld(t, 61, 1500)
		cli, srv, _ := w.connect(80)
		srv.SetOOBInline(inline)
		w.a.Exec().Do(func() {
			cli.Send([]byte("hello"))
			cli.SendOOB([]byte("!"))
			cli.Send([]byte("world"))
		})
		w.st.Sim.RunFor(100 * time.Millisecond)
		if inline {
			if got := recvAll(w, srv); string(got) != "hello!world" {
				t.Fatalf("inline: %q", got)
			}
			if _, err := srv.RecvOOB(); !errors.Is(err, syscall.EINVAL) {
				t.Fatalf("inline RecvOOB: %v", err)
			}
			continue
		}
		first := make([]byte, 64)
		k, _, _ := srv.Recv(first)
		if got := first[:k]; string(got) != "hello" {
			t.Fatalf("read before the mark: %q", got)
		}
		if !srv.AtMark() {
			t.Fatal("not at the mark")
		}
		b, err := srv.RecvOOB()
		if err != nil || b != '!' {
			t.Fatalf("RecvOOB: %q %v", b, err)
		}
		if _, err := srv.RecvOOB(); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("second RecvOOB: %v, want EINVAL", err)
		}
		if got := recvAll(w, srv); string(got) != "world" {
			t.Fatalf("read after the mark: %q", got)
		}
		if srv.Info.UrgentSkipped != 1 {
			t.Fatalf("skipped %d", srv.Info.UrgentSkipped)
		}
	}
}

// TestUrgentFlood forges thousands of URG segments at a receiver during a
// transfer — pointers anywhere, sequence numbers in and out of the window.
// Nothing breaks: the transfer finishes, and the stream is what was sent
// minus exactly the bytes the marks took out (Linux's semantics: at most
// one per mark that reading passed).
func TestUrgentFlood(t *testing.T) {
	w := newWorld(t, 62, 1500)
	w.netem(sched.NetemConfig{Rate: 100e6, Delay: time.Millisecond, Limit: 100000})
	cli, srv, _ := w.connect(80)
	const n = 2 << 20
	sent := make([]byte, n)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range sent {
		sent[i] = byte(rng.Uint32())
	}
	var got []byte
	buf := make([]byte, 64<<10)
	off, forged := 0, 0
	la, ra := cli.LocalAddr(), cli.RemoteAddr()
	eof := false
	for step := 0; !eof && step < 100000; step++ {
		w.a.Exec().Do(func() {
			if off < n {
				k, _ := cli.Send(sent[off:])
				off += k
				if off == n {
					cli.CloseWrite()
				}
			}
			for i := 0; i < 20; i++ {
				rt, err := w.a.IPv4.RouteOutput(&ipv4.FlowKey{Dst: ra.Addr(), Src: la.Addr(), Proto: 6})
				if err != nil {
					t.Fatal(err)
				}
				b := w.st.Pool().Get(skb.DefaultHeadroom, 20)
				h := header.TCP(b.Put(20))
				clear(h)
				h.SetSrcPort(la.Port())
				h.SetDstPort(ra.Port())
				seq := cli.SndNxt()
				if rng.IntN(4) == 0 {
					seq = rng.Uint32()
				}
				h.SetSeq(seq)
				h.SetAck(cli.RcvNxt())
				h[12] = 5 << 4
				h.SetFlags(header.TCPFlagURG | header.TCPFlagACK)
				h.SetWindow(65535)
				h.SetUrgent(uint16(rng.Uint32()))
				h.FillChecksum(la.Addr(), ra.Addr())
				w.a.IPv4.Output(b, la.Addr(), ra.Addr(), 6, &rt, ipv4.SendOpts{})
				forged++
			}
		})
		w.st.Sim.RunFor(time.Millisecond)
		w.b.Exec().Do(func() {
			for {
				k, e, err := srv.Recv(buf)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, buf[:k]...)
				if e {
					eof = true
				}
				srv.RecvOOB() // drain it sometimes, as a program would
				if k == 0 {
					break
				}
			}
		})
	}
	if !eof {
		t.Fatalf("transfer stalled at %d of %d", len(got), n)
	}
	skipped := int(srv.Info.UrgentSkipped)
	if len(got)+skipped != n {
		t.Fatalf("got %d bytes + %d urgent = %d, sent %d", len(got), skipped, len(got)+skipped, n)
	}
	// got must be sent with skipped single bytes removed.
	i, j, holes := 0, 0, 0
	for i < len(got) {
		if got[i] == sent[j] {
			i++
			j++
			continue
		}
		holes++
		j++
		if holes > skipped {
			t.Fatalf("stream differs at byte %d beyond the %d urgent bytes", i, skipped)
		}
	}
	if srv.Info.UrgentMarks == 0 {
		t.Fatal("no urgent mark was taken: the flood did not reach the receiver")
	}
	t.Logf("%d forged URG segments: %d marks taken, %d bytes taken out; %d bytes intact", forged, srv.Info.UrgentMarks, skipped, len(got))
}

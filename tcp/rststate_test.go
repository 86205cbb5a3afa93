package tcp_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/tcp"
)

// TestResetInClosingStates sends an exact RST (sequence rcv_nxt) to a
// connection in each closing state and checks what tcp_reset and
// tcp_timewait_state_process make of it: the connection is gone
// (CLOSED), the error is ECONNRESET (EPIPE only in CLOSE_WAIT, covered
// by TestResetInStates), and a reader that already saw the peer's FIN
// still reads end of file, as Linux's recvmsg checks SOCK_DONE (set by
// the FIN) before sk_err. An RST kills TIME_WAIT (tcp_rfc1337 = 0).
func TestResetInClosingStates(t *testing.T) {
	for _, tc := range []struct {
		name    string
		state   tcp.State
		finRcvd bool
		setup   func(w *world, qa, qb *wire, cli, srv *tcp.Conn)
	}{
		{"fin-wait-1", tcp.FinWait1, false, func(w *world, qa, qb *wire, cli, srv *tcp.Conn) {
			qa.drop = func(s *wireSeg) bool { return true } // our FIN is lost
			cli.CloseWrite()
		}},
		{"closing", tcp.Closing, true, func(w *world, qa, qb *wire, cli, srv *tcp.Conn) {
			// The FINs cross; the ACKs of both are lost.
			qa.drop, qb.drop = afterFIN(), afterFIN()
			cli.CloseWrite()
			srv.CloseWrite()
		}},
		{"last-ack", tcp.LastAck, true, func(w *world, qa, qb *wire, cli, srv *tcp.Conn) {
			srv.CloseWrite()
			w.run(100*time.Millisecond, func() bool { return false })
			qb.drop = func(s *wireSeg) bool { return s.flags&header.TCPFlagRST == 0 } // the ACK of our FIN is lost
			cli.CloseWrite()
		}},
		{"time-wait", tcp.TimeWait, true, func(w *world, qa, qb *wire, cli, srv *tcp.Conn) {
			cli.CloseWrite()
			w.run(100*time.Millisecond, func() bool { return false })
			srv.CloseWrite()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 107, 1500)
			qa, qb := w.wires(time.Millisecond)
			cli, srv, _ := w.connect(80)
			tc.setup(w, qa, qb, cli, srv)
			w.run(100*time.Millisecond, func() bool { return false })
			if cli.State() != tc.state {
				t.Fatalf("client in %v, want %v", cli.State(), tc.state)
			}
			forgeRST(t, w, srv, 0)
			w.run(10*time.Millisecond, func() bool { return false })
			if cli.State() != tcp.Closed {
				t.Fatalf("after the RST: %v, want CLOSED", cli.State())
			}
			if tc.state == tcp.TimeWait {
				if cli.Err() != nil {
					t.Fatalf("TIME_WAIT killed with error %v", cli.Err())
				}
				return
			}
			if !errors.Is(cli.Err(), syscall.ECONNRESET) {
				t.Fatalf("error %v, want ECONNRESET", cli.Err())
			}
			_, eof, err := cli.Recv(make([]byte, 4))
			if tc.finRcvd && (!eof || err != nil) || !tc.finRcvd && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("Recv: eof %v err %v; want end of file if the FIN came (%v), else ECONNRESET", eof, err, tc.finRcvd)
			}
		})
	}
}

// afterFIN drops every segment after the side's first FIN, RSTs apart.
func afterFIN() func(s *wireSeg) bool {
	fin := false
	return func(s *wireSeg) bool {
		if s.flags&header.TCPFlagRST != 0 {
			return false
		}
		if fin {
			return true
		}
		fin = s.flags&header.TCPFlagFIN != 0
		return false
	}
}

// TestResetInSynRecv: an RST for a half-open passive connection (SYN
// received, SYN-ACK sent) removes it
// from the SYN queue (tcp_check_req's embryonic reset, counted in
// AttemptFails); the application never sees it, and no SYN-ACK is
// retransmitted afterwards.
func TestResetInSynRecv(t *testing.T) {
	w := newWorld(t, 108, 1500)
	qa, qb := w.wires(time.Millisecond)
	l, err := w.b.TCP.Listen(netip.AddrPortFrom(addrB, 80), 8)
	if err != nil {
		t.Fatal(err)
	}
	// A SYN forged from a's address: a's stack, which knows nothing of
	// it, answers the SYN-ACK with an RST of the sequence it acknowledges.
	src, sport := addrA, uint16(4242)
	forgeSYN(t, w, src, sport, netip.AddrPortFrom(addrB, 80))
	w.run(10*time.Millisecond, func() bool { return false })
	synAcks, rsts := 0, 0
	for _, s := range qb.segs {
		if s.flags == header.TCPFlagSYN|header.TCPFlagACK {
			synAcks++
		}
	}
	for _, s := range qa.segs {
		if s.flags&header.TCPFlagRST != 0 && s.seq == uint32(sport)*7919+1 {
			rsts++
		}
	}
	if synAcks != 1 || rsts != 1 {
		t.Fatalf("%d SYN-ACKs, %d RSTs, want 1 each", synAcks, rsts)
	}
	if w.b.TCP.Stats.AttemptFails != 1 {
		t.Fatalf("AttemptFails %d, want 1", w.b.TCP.Stats.AttemptFails)
	}
	qb.segs = nil
	w.run(10*time.Second, func() bool { return false })
	for _, s := range qb.segs {
		if s.flags&header.TCPFlagSYN != 0 {
			t.Fatalf("SYN-ACK retransmitted after the RST")
		}
	}
	if c := l.Accept(); c != nil {
		t.Fatalf("accepted a reset connection: %v", c.State())
	}
}

// TestResetInSynRecvInWindow: a half-open passive connection is reset by
// any RST in its window, not only one at rcv_nxt: tcp_check_req has no
// RFC 5961 challenge for request socks.
func TestResetInSynRecvInWindow(t *testing.T) {
	w := newWorld(t, 116, 1500)
	if _, err := w.b.TCP.Listen(netip.AddrPortFrom(addrB, 80), 8); err != nil {
		t.Fatal(err)
	}
	// From an address nobody answers for: the SYN-ACK goes unanswered.
	src, sport := netip.MustParseAddr("10.9.0.77"), uint16(4242)
	forgeSYN(t, w, src, sport, netip.AddrPortFrom(addrB, 80))
	w.run(10*time.Millisecond, func() bool { return false })
	w.a.Exec().Do(func() {
		rt, err := w.a.IPv4.RouteOutput(&ipv4.FlowKey{Dst: addrB, Proto: 6})
		if err != nil {
			t.Fatal(err)
		}
		b := w.st.Pool().Get(skb.DefaultHeadroom, 20)
		h := header.TCP(b.Put(20))
		clear(h)
		h.SetSrcPort(sport)
		h.SetDstPort(80)
		h.SetSeq(uint32(sport)*7919 + 1 + 1000) // in the window, not rcv_nxt
		h[12] = 5 << 4
		h.SetFlags(header.TCPFlagRST)
		h.FillChecksum(src, addrB)
		w.a.IPv4.Output(b, src, addrB, 6, &rt, ipv4.SendOpts{})
	})
	w.run(10*time.Millisecond, func() bool { return false })
	if st := w.b.TCP.Stats; st.AttemptFails != 1 || st.ChallengeACKs != 0 {
		t.Fatalf("AttemptFails %d ChallengeACKs %d, want 1 and 0", st.AttemptFails, st.ChallengeACKs)
	}
}

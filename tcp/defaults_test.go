package tcp_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/tcp"
)

// Tests of Linux defaults: each asserts Linux's exact numbers.

// TestSynRetriesBackoff: a SYN into a black hole is sent at 0 and
// retransmitted after the initial RTO of 1 s (TCP_TIMEOUT_INIT),
// doubling: at 1, 3, 7, 15, 31 and 63 s (tcp_syn_retries = 6); the
// connect fails with ETIMEDOUT when the seventh timeout expires, 127 s
// after the first SYN.
func TestSynRetriesBackoff(t *testing.T) {
	w := newWorld(t, 101, 1500)
	qa, _ := w.wires(0)
	qa.drop = func(*wireSeg) bool { return true }
	c, err := w.a.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(addrB, 80))
	if err != nil {
		t.Fatal(err)
	}
	w.run(200*time.Second, func() bool { return c.State() == tcp.Closed })
	if !errors.Is(c.Err(), syscall.ETIMEDOUT) {
		t.Fatalf("connect: %v %v, want ETIMEDOUT", c.State(), c.Err())
	}
	if len(qa.segs) != 7 {
		t.Fatalf("%d SYNs sent, want 7", len(qa.segs))
	}
	t0 := qa.segs[0].at
	for i, want := range []time.Duration{0, 1, 3, 7, 15, 31, 63} {
		s := qa.segs[i]
		if s.flags != header.TCPFlagSYN || s.at-t0 != want*time.Second {
			t.Errorf("SYN %d: flags %v at %v, want SYN at %v", i, s.flags, s.at-t0, want*time.Second)
		}
	}
	// w.run polls in 1 ms steps.
	if d := w.st.Sim.Now() - t0; d < 127*time.Second || d > 127*time.Second+time.Millisecond {
		t.Fatalf("connect failed %v after the first SYN, want 127 s", d)
	}
}

// TestRTOMin: with an RTT of microseconds, a lost lone segment whose
// tail loss probe is lost too is retransmitted by the RTO no sooner than
// TCP_RTO_MIN (200 ms) after it was sent: Linux's RTO is SRTT plus the
// variance term floored at 200 ms. The probe, for a single segment in
// flight, waits 2·SRTT + 200 ms capped at the RTO (tcp_schedule_loss_probe),
// so it is no earlier either.
func TestRTOMin(t *testing.T) {
	w := newWorld(t, 102, 1500)
	qa, _ := w.wires(0)
	cli, srv, _ := w.connect(80)
	sendAll(t, w, cli, srv, 64<<10, 10*time.Second)
	if rtt := cli.TCPInfo().RTT; rtt > time.Millisecond {
		t.Fatalf("RTT %v, want a tiny one", rtt)
	}
	w.st.Sim.RunFor(10 * time.Millisecond)
	lost := cli.SndNxt()
	qa.segs = nil
	start := w.st.Sim.Now()
	// Drop the segment, its probe and its first RTO retransmission;
	// the second one gets through.
	drops := 0
	qa.drop = func(s *wireSeg) bool {
		if s.n > 0 && s.seq == lost && drops < 3 {
			drops++
			return true
		}
		return false
	}
	sendAll(t, w, cli, srv, 100, 10*time.Second)
	d := qa.data()
	if len(d) != 4 {
		t.Fatalf("%d transmissions of the segment, want 4 (original, probe, 2 RTOs): %+v", len(d), d)
	}
	for i, s := range d {
		t.Logf("transmission %d at +%v", i, s.at-start)
	}
	if d[0].at != start {
		t.Fatalf("original sent at +%v", d[0].at-start)
	}
	probe, rto1, rto2 := d[1].at-d[0].at, d[2].at-d[1].at, d[3].at-d[2].at
	if probe < 200*time.Millisecond || probe > 201*time.Millisecond {
		t.Errorf("probe %v after the original, want 200 ms (+ SRTT)", probe)
	}
	if rto1 < 200*time.Millisecond || rto1 > 201*time.Millisecond {
		t.Errorf("first RTO retransmission %v after the probe, want 200 ms (+ SRTT)", rto1)
	}
	if rto2 != 2*rto1 {
		t.Errorf("second RTO retransmission %v after the first, want double (%v)", rto2, 2*rto1)
	}
	if st := cli.TCPInfo(); st.Timeouts != 2 {
		t.Errorf("timeouts %d, want 2", st.Timeouts)
	}
}

// TestRTOWithoutRTTSample: when the handshake yields no RTT sample (the
// SYN was retransmitted, so Karn's rule discards the SYN-ACK's timing,
// and there are no timestamps), the first data segment's RTO is
// TCP_TIMEOUT_FALLBACK, 3 s (RFC 6298 5.7, tcp_init_metrics), then
// doubles.
func TestRTOWithoutRTTSample(t *testing.T) {
	w := newWorld(t, 113, 1500)
	w.a.TCP.Sysctl.Timestamps, w.b.TCP.Sysctl.Timestamps = false, false
	qa, _ := w.wires(time.Millisecond)
	syns, datas := 0, 0
	qa.drop = func(s *wireSeg) bool {
		if s.flags&header.TCPFlagSYN != 0 {
			syns++
			return syns == 1
		}
		if s.n > 0 {
			datas++
			return datas <= 2
		}
		return false
	}
	cli, srv, _ := w.connect(80)
	if rtt := cli.TCPInfo().RTT; rtt != 0 {
		t.Fatalf("RTT sample %v from a retransmitted SYN", rtt)
	}
	qa.segs = nil
	sendAll(t, w, cli, srv, 100, time.Minute)
	d := qa.data()
	if len(d) != 3 {
		t.Fatalf("%d transmissions, want 3", len(d))
	}
	if r1, r2 := d[1].at-d[0].at, d[2].at-d[1].at; r1 != 3*time.Second || r2 != 6*time.Second {
		t.Fatalf("retransmissions after %v and %v, want 3 s and 6 s", r1, r2)
	}
}

// TestHandshakeRTTSamples: both ends time the handshake (the client its
// SYN, the server its SYN-ACK: tcp_synack_rtt_meas), so each starts with
// SRTT = the 10 ms RTT and RTO = SRTT + TCP_RTO_MIN; with the SYN-ACK
// retransmitted, the server takes the sample from the timestamp echo.
func TestHandshakeRTTSamples(t *testing.T) {
	const owd = 5 * time.Millisecond
	w := newWorld(t, 114, 1500)
	w.wires(owd)
	w.connect(81) // resolves the neighbours, whose round trip a first SYN would include
	cli, srv, _ := w.connect(80)
	w.st.Sim.RunFor(10 * time.Millisecond)
	for _, c := range []*tcp.Conn{cli, srv} {
		if i := c.TCPInfo(); i.RTT != 2*owd || i.RTO != 2*owd+200*time.Millisecond {
			t.Fatalf("%v: RTT %v RTO %v, want 10 ms and 210 ms", c.LocalAddr(), i.RTT, i.RTO)
		}
	}

	w = newWorld(t, 115, 1500)
	_, qb := w.wires(owd)
	synAcks := 0
	qb.drop = func(s *wireSeg) bool {
		if s.flags&header.TCPFlagSYN != 0 {
			synAcks++
			return synAcks == 2
		}
		return false
	}
	w.connect(81)
	_, srv, _ = w.connect(80)
	// The echo is in milliseconds of the timestamp clock: the sample is
	// the 10 ms since the retransmitted SYN-ACK, not since the first.
	if i := srv.TCPInfo(); synAcks != 3 || i.RTT < 2*owd || i.RTT > 2*owd+time.Millisecond {
		t.Fatalf("after %d SYN-ACKs: RTT %v, want about 10 ms", synAcks, i.RTT)
	}
}

package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/header"
)

// TestInitialWindow: a bulk sender's first flight, before any ACK of
// data can return, is exactly TCP_INIT_CWND = 10 segments of the MSS
// (RFC 6928, Linux's tcp_init_cwnd).
func TestInitialWindow(t *testing.T) {
	const owd = 50 * time.Millisecond
	w := newWorld(t, 105, 1500)
	qa, _ := w.wires(owd)
	cli, _, _ := w.connect(80)
	qa.segs = nil
	start := w.st.Sim.Now()
	if n, err := cli.Send(make([]byte, 1<<20)); err != nil || n == 0 {
		t.Fatalf("send: %d %v", n, err)
	}
	w.st.Sim.RunFor(2*owd - time.Millisecond)
	bytes := 0
	for _, s := range qa.data() {
		if s.at != start {
			t.Fatalf("data sent at +%v, before any ACK could come", s.at-start)
		}
		if s.gso != 0 && s.gso != 1448 || s.gso == 0 && s.n > 1448 {
			t.Fatalf("segment of %d bytes, GSO size %d: want MSS 1448", s.n, s.gso)
		}
		bytes += s.n
	}
	if bytes != 10*1448 {
		t.Fatalf("first flight %d bytes (%.1f segments), want 10 segments of 1448", bytes, float64(bytes)/1448)
	}
}

// TestPeerMSSClamp: a peer whose SYN-ACK announces MSS 536 (its device
// MTU is 576) or 1000 (MTU 1040) gets segments of at most that, less the
// timestamp option (tcp_sync_mss: 524 and 988), while the sender's own
// SYN announces 1460 from its 1500-byte route.
func TestPeerMSSClamp(t *testing.T) {
	for _, tc := range []struct{ mtu, mss, seg int }{{576, 536, 524}, {1040, 1000, 988}} {
		w := newWorld(t, 106, 1500)
		var err error
		w.b.Exec().Do(func() { err = w.db.SetMTU(tc.mtu) })
		if err != nil {
			t.Fatal(err)
		}
		qa, qb := w.wires(time.Millisecond)
		cli, srv, _ := w.connect(80)
		w.transfer(cli, srv, 1<<20, time.Minute)
		var synMSS, synAckMSS int
		for _, s := range qa.segs {
			if s.flags&header.TCPFlagSYN != 0 {
				synMSS = int(s.opts.MSS)
			}
		}
		for _, s := range qb.segs {
			if s.flags&header.TCPFlagSYN != 0 {
				synAckMSS = int(s.opts.MSS)
			}
		}
		if synMSS != 1460 || synAckMSS != tc.mss {
			t.Fatalf("MTU %d: SYN MSS %d, SYN-ACK MSS %d; want 1460, %d", tc.mtu, synMSS, synAckMSS, tc.mss)
		}
		most := 0
		for _, s := range qa.data() {
			seg := s.n
			if s.gso != 0 {
				seg = int(s.gso)
			}
			most = max(most, seg)
		}
		if most != tc.seg {
			t.Fatalf("MTU %d: largest segment %d, want %d", tc.mtu, most, tc.seg)
		}
	}
}

package tcp

import (
	"testing"

	"github.com/usnet/usnet/tcp/cc"
)

// TestPRRSpreadsReduction replays RFC 6937's example: cwnd 20, one loss,
// ssthresh 10. Each ACK SACKs one segment; PRR lets out about one segment
// for every two delivered, so the window comes down to ssthresh over the
// round instead of at once, and never collapses below the pipe.
func TestPRRSpreadsReduction(t *testing.T) {
	c := &Conn{mss: 1000, caState: cc.Recovery, priorCwnd: 20}
	c.snd.Ssthresh, c.snd.Cwnd = 10, 20
	for i := uint32(0); i < 20; i++ {
		c.txq = append(c.txq, txSeg{start: i * 1000, end: (i + 1) * 1000})
	}
	c.txq[0].lost = true
	next := uint32(20)
	sent := 0
	for k := 1; k < 20; k++ {
		c.txq[k].sacked = true
		c.cwndReduction(1, false, false)
		if c.snd.Cwnd < 1 {
			t.Fatalf("ack %d: cwnd %d", k, c.snd.Cwnd)
		}
		for c.pipeSegs() < c.snd.Cwnd {
			c.txq = append(c.txq, txSeg{start: next * 1000, end: (next + 1) * 1000})
			next++
			c.prrOut++
			sent++
		}
	}
	if sent < 9 || sent > 10 {
		t.Fatalf("PRR sent %d segments for 19 delivered, want ssthresh·19/20 ≈ 9.5", sent)
	}
	if c.snd.Cwnd != 10 && c.snd.Cwnd != 9 {
		t.Fatalf("cwnd %d at the end of the round, want ssthresh 10", c.snd.Cwnd)
	}
}

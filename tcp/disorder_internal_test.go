package tcp

import (
	"testing"
	"time"

	"github.com/usnet/usnet/tcp/cc"
)

// TestDisorderState: Disorder is a state, as Linux's TCP_CA_Disorder,
// entered and left where tcp_try_to_open runs and read by the probe
// timer: a SACK in Open enters it (no probes: the SACKs show the way),
// the ACK that leaves nothing SACKed, lost or retransmitted leaves it.
// In CWR the state holds with records SACKed, and probes go on, as
// tcp_schedule_loss_probe allows there.
func TestDisorderState(t *testing.T) {
	c := &Conn{mss: 1000, sackOK: true, srtt: 10 * time.Millisecond, state: Established, ca: &cc.Reno{}}
	c.sndUna, c.sndNxt = 0, 3000
	for i := uint32(0); i < 3; i++ {
		c.txq = append(c.txq, txSeg{start: i * 1000, end: (i + 1) * 1000})
	}
	if !c.tlpEligible() {
		t.Fatal("Open with nothing SACKed: no probe")
	}
	c.txq[2].sacked = true // a SACK for the last record
	c.tryToOpen(false)
	if c.caState != cc.Disorder || c.recover != c.sndNxt || c.tlpEligible() {
		t.Fatalf("after a SACK: state %v, high_seq %d, probe %v; want Disorder, %d, no probe", c.caState, c.recover, c.tlpEligible(), c.sndNxt)
	}
	c.txq, c.sndUna = nil, 3000 // all acknowledged
	c.sndNxt = 4000
	c.txq = append(c.txq, txSeg{start: 3000, end: 4000})
	c.tryToOpen(false)
	if c.caState != cc.Open || !c.tlpEligible() {
		t.Fatalf("after the cumulative ACK: state %v, probe %v; want Open and a probe", c.caState, c.tlpEligible())
	}
	// A retransmitted head (a probe's) keeps it in Disorder.
	c.txq[0].everRetrans = true
	c.tryToOpen(false)
	if c.caState != cc.Disorder {
		t.Fatalf("retransmitted head: state %v, want Disorder", c.caState)
	}
	c.txq[0].everRetrans = false
	c.tryToOpen(false)
	// CWR with a record SACKed: still CWR, and probes.
	c.caState = cc.CWR
	c.sndNxt = 6000
	c.txq = append(c.txq, txSeg{start: 4000, end: 5000, sacked: true}, txSeg{start: 5000, end: 6000})
	c.tryToOpen(false)
	if c.caState != cc.CWR || !c.tlpEligible() {
		t.Fatalf("CWR with a SACK: state %v, probe %v; want CWR and a probe", c.caState, c.tlpEligible())
	}
}

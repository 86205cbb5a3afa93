package tcp_test

import (
	"slices"
	"testing"
	"time"
)

// TestSACKCompression: a receiver with a hole sends the first three
// duplicate ACKs at once and holds the next ones back for
// min(tcp_comp_sack_delay_ns, 5% of the smaller of its RTT estimate and
// the SRTT) — 1 ms here — sending one for all of them
// (TCPAckCompressed counts the rest); no more than tcp_comp_sack_nr (44)
// in a row; a segment opening a third SACK block first sends the ACK
// held back; without SACK, or with tcp_comp_sack_nr 0, every duplicate
// ACK goes at once.
func TestSACKCompression(t *testing.T) {
	// A fixed buffer: once rcv_ssthresh reaches it, out-of-order segments
	// no longer grow the window, which asks for a quick ACK each time
	// (tcp_grow_window) and so defeats compression, as on Linux.
	// Wires of 20 ms each way give an SRTT of 40 ms, whose 5% is above
	// the 1 ms cap.
	f := newForgedRxWith(t, 108, func(f *forgedRx) {
		f.w.b.TCP.Sysctl.ModerateRcvbuf = false
		f.w.wires(20 * time.Millisecond)
		f.owd = 20 * time.Millisecond
	})
	// A receive RTT estimate (tcp_rcv_rtt_measure without timestamps:
	// the time a window's worth of data takes).
	for range 50 {
		f.send(1460, false)
		f.read()
		f.w.st.Sim.RunFor(2 * time.Millisecond)
	}
	f.w.st.Sim.RunFor(50 * time.Millisecond) // every ACK sent
	hole := f.off
	f.off += 1000
	k := len(f.acks)
	f.burst(10, 500)
	if n := len(f.since(k)); n != 3 {
		t.Fatalf("%d ACKs for 10 out-of-order segments at once, want the first 3", n)
	}
	f.w.st.Sim.RunFor(time.Millisecond - 1)
	if n := len(f.since(k)); n != 3 {
		t.Fatalf("%d ACKs before the compression delay ended, want 3", n)
	}
	f.w.st.Sim.RunFor(1)
	if a := f.since(k); len(a) != 4 || a[3].ack != hole || a[3].nsack != 1 {
		t.Fatalf("after 1 ms: ACKs %+v, want a 4th, of the hole with its block", a)
	}
	if c := f.w.b.TCP.Stats.TCPAckCompressed; c != 6 {
		t.Fatalf("TCPAckCompressed %d, want 6", c)
	}
	// Still the same rcv_nxt: no more duplicate ACKs at once. In one
	// burst, a segment extending the block, one opening a second block
	// (both held back) and one opening a third: that one sends the held
	// ACK, with two blocks, before it is added, then waits itself.
	k = len(f.acks)
	for _, gap := range []uint32{0, 1000, 1000} {
		f.off += gap
		forgeData(t, f.w, f.cli, f.srv, f.off, 500)
		f.off += 500
	}
	f.w.st.Sim.RunFor(f.owd)
	if a := f.since(k); len(a) != 1 || a[0].nsack != 2 {
		t.Fatalf("third block: ACKs %+v, want the one held back, with two blocks", a)
	}
	f.w.st.Sim.RunFor(time.Millisecond)
	if a := f.since(k); len(a) != 2 || a[1].nsack != 3 {
		t.Fatalf("third block: ACKs %+v, want then one with three blocks", a)
	}
	// tcp_comp_sack_nr: the 45th held in a row goes at once.
	k = len(f.acks)
	f.burst(45, 100)
	if n := len(f.since(k)); n != 1 {
		t.Fatalf("%d ACKs for 45 segments, want 1 (the 45th, beyond tcp_comp_sack_nr)", n)
	}
	// Filling the hole acknowledges at once.
	f.w.st.Sim.RunFor(10 * time.Millisecond)
	k = len(f.acks)
	forgeData(t, f.w, f.cli, f.srv, hole, 1000)
	f.w.st.Sim.RunFor(f.owd)
	if a := f.since(k); len(a) != 1 || a[0].ack == hole {
		t.Fatalf("hole filled: ACKs %+v, want one beyond it", a)
	}

	for _, off := range []struct {
		name string
		set  func(f *forgedRx)
	}{
		{"SACK off", func(f *forgedRx) { f.w.a.TCP.Sysctl.SACK = false }},
		{"tcp_comp_sack_nr 0", func(f *forgedRx) { f.w.b.TCP.Sysctl.CompSackNr = 0 }},
	} {
		f := newForgedRxWith(t, 108, off.set)
		f.send(1460, false)
		f.off += 1000
		k := len(f.acks)
		f.burst(10, 500)
		if n := len(f.since(k)); n != 10 {
			t.Fatalf("%s: %d ACKs for 10 out-of-order segments, want 10", off.name, n)
		}
	}
}

// TestSACKBlocksMRU: SACK blocks are reported most recently used first,
// as tcp_sack_new_ofo_skb keeps them: an arrival that extends a block
// moves it to the front, one that opens a block puts it there and, with
// four held, forgets the least recently used one — whose data stays
// queued. When the extended block was beyond the first two, the ACK
// held back by SACK compression goes out first, with the blocks in
// their old order.
func TestSACKBlocksMRU(t *testing.T) {
	f := newForgedRxWith(t, 109, func(f *forgedRx) {
		f.w.b.TCP.Sysctl.ModerateRcvbuf = false
		f.w.wires(20 * time.Millisecond)
		f.owd = 20 * time.Millisecond
	})
	for range 50 {
		f.send(1460, false)
		f.read()
		f.w.st.Sim.RunFor(2 * time.Millisecond)
	}
	f.w.st.Sim.RunFor(50 * time.Millisecond)
	base := f.off // a hole of 100 bytes here
	seg := func(from, to uint32) {
		forgeData(t, f.w, f.cli, f.srv, base+from, int(to-from))
	}
	blk := func(from, to uint32) [2]uint32 { return [2]uint32{base + from, base + to} }
	last := func() forgedAck { return f.acks[len(f.acks)-1] }
	// A, B, C: three duplicate ACKs at once.
	k := len(f.acks)
	seg(200, 300)
	seg(400, 500)
	seg(600, 700)
	f.w.st.Sim.RunFor(f.owd)
	if a := f.since(k); len(a) != 3 {
		t.Fatalf("ACKs %+v for three out-of-order segments, want three at once", a)
	}
	// D, held back, and right behind it E, which extends A, the least
	// recent of four: the held ACK goes at once (with A already
	// extended, in its old place), then E's is held.
	k = len(f.acks)
	seg(800, 900)
	seg(300, 350)
	f.w.st.Sim.RunFor(f.owd)
	a := f.since(k)
	want := [][2]uint32{blk(800, 900), blk(600, 700), blk(400, 500), blk(200, 350)}
	if len(a) != 1 || !slices.Equal(a[0].blocks, want) {
		t.Fatalf("E extending the 4th block: ACKs %+v, want one at once with blocks %v", a, want)
	}
	f.w.st.Sim.RunFor(2 * time.Millisecond)
	want = [][2]uint32{blk(200, 350), blk(800, 900), blk(600, 700), blk(400, 500)}
	if a := f.since(k); len(a) != 2 || !slices.Equal(a[1].blocks, want) {
		t.Fatalf("after E: ACKs %+v, want the held one with blocks %v", a, want)
	}
	// F opens a fifth range: B, least recently used, is forgotten.
	seg(1000, 1100)
	f.w.st.Sim.RunFor(f.owd + 2*time.Millisecond)
	want = [][2]uint32{blk(1000, 1100), blk(200, 350), blk(800, 900), blk(600, 700)}
	if b := last().blocks; !slices.Equal(b, want) {
		t.Fatalf("after F: blocks %v, want %v", b, want)
	}
	// G touches C (the third): C, grown, goes first; a block for B comes
	// back only when an arrival touches B's data again.
	seg(700, 750)
	f.w.st.Sim.RunFor(f.owd + 2*time.Millisecond)
	want = [][2]uint32{blk(600, 750), blk(1000, 1100), blk(200, 350), blk(800, 900)}
	if b := last().blocks; !slices.Equal(b, want) {
		t.Fatalf("after G: blocks %v, want %v", b, want)
	}
	// H fills 350..400: A and the forgotten B's data join in the queue,
	// but the block is the arrival's union with A.
	seg(350, 400)
	f.w.st.Sim.RunFor(f.owd + 2*time.Millisecond)
	want = [][2]uint32{blk(200, 400), blk(600, 750), blk(1000, 1100), blk(800, 900)}
	if b := last().blocks; !slices.Equal(b, want) {
		t.Fatalf("after H: blocks %v, want %v", b, want)
	}
	// The hole fills: rcv_nxt runs to 500 (A, H and B's data), and the
	// blocks it reached go.
	seg(0, 200)
	f.w.st.Sim.RunFor(f.owd + 2*time.Millisecond)
	want = [][2]uint32{blk(600, 750), blk(1000, 1100), blk(800, 900)}
	if l := last(); l.ack != base+500 || !slices.Equal(l.blocks, want) {
		t.Fatalf("hole filled: ACK %d blocks %v, want %d and %v", l.ack, l.blocks, base+500, want)
	}
}

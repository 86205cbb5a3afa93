package tcp

import "testing"

// rwndConn is a connection at MTU 1500 with timestamps and window scale
// 7, the default buffer, just established: Linux's numbers.
func rwndConn() *Conn {
	c := &Conn{t: &Table{Sysctl: defaultSysctl()}, advMSS: 1460, mss: 1448, tsOK: true, rcvShift: 7}
	c.rcvCap = winFromSpace(c.t.Sysctl.RmemDefault)
	return c
}

// TestInitialWindowNumbers: tcp_select_initial_window offers the default
// buffer's window (64 KiB) in whole segments: 64240 in a SYN (MSS 1460),
// 65160 in a SYN-ACK with timestamps (MSS 1448); tcp_init_buffer_space
// then clamps the window one segment below the buffer (64076) and
// rcv_ssthresh with it, and the first ACK keeps the SYN's right edge
// (64256, "win 502" at scale 7) rather than shrink it.
func TestInitialWindowNumbers(t *testing.T) {
	c := rwndConn()
	c.initRcvWnd(false)
	if c.rcvWnd != 64240 || c.rcvSsthresh != 64240 {
		t.Fatalf("SYN window %d rcv_ssthresh %d, want 64240", c.rcvWnd, c.rcvSsthresh)
	}
	s := rwndConn()
	s.initRcvWnd(true)
	if s.rcvWnd != 65160 {
		t.Fatalf("SYN-ACK window %d, want 65160", s.rcvWnd)
	}
	c.rcvNxt = 1000
	c.advertised = c.rcvNxt + c.rcvWnd
	c.initRcvWindowClamp()
	if c.windowClamp != 64076 || c.rcvSsthresh != 64076 || c.rcvMSS != 536 {
		t.Fatalf("clamp %d rcv_ssthresh %d rcv_mss %d, want 64076 64076 536", c.windowClamp, c.rcvSsthresh, c.rcvMSS)
	}
	if w := c.selectWindow(); w != 502 || c.advertised != 1000+64256 {
		t.Fatalf("first ACK window %d (edge +%d), want 502 (+64256)", w, c.advertised-1000)
	}
}

// TestGrowWindowRules checks tcp_grow_window's rules one packet at a time.
func TestGrowWindowRules(t *testing.T) {
	newC := func() *Conn {
		c := rwndConn()
		c.initRcvWnd(false)
		c.initRcvWindowClamp()
		c.rcvCap, c.windowClamp = 1<<20, 1<<20 // autotuned: room to grow
		return c
	}
	// A full-sized segment in a 2 KiB buffer (payload over half the
	// truesize) earns two segments' worth: 2·advmss.
	c := newC()
	c.growWindow(1448, 2048+256)
	if c.rcvSsthresh != 64076+2*1460 {
		t.Fatalf("MSS segment: rcv_ssthresh %d, want %d", c.rcvSsthresh, 64076+2*1460)
	}
	if c.ack.quick == 0 {
		t.Fatalf("growth does not ask for a quick ACK")
	}
	// A 64 KiB GRO packet earns twice its payload.
	c = newC()
	c.growWindow(65160, 65536+1024+256)
	if c.rcvSsthresh != 64076+2*65160 {
		t.Fatalf("GRO packet: rcv_ssthresh %d, want %d", c.rcvSsthresh, 64076+2*65160)
	}
	// Under 128 bytes nothing grows, however good the ratio.
	c = newC()
	c.growWindow(100, 200)
	if c.rcvSsthresh != 64076 {
		t.Fatalf("tiny segment grew rcv_ssthresh to %d", c.rcvSsthresh)
	}
	// A poor ratio grows only while rcv_ssthresh is small against
	// tcp_rmem[2]: 200 bytes in 2304 of truesize passes the test at an
	// eighth (ratio 1/11.5 after halving thrice), good while rcv_ssthresh
	// is at most the window of rmem[2] halved thrice: rmem[2]/16 (2 MiB
	// at Linux 6.18's 32 MiB), by 2·rcv_mss each.
	c = newC()
	c.growWindow(200, 2304)
	if c.rcvSsthresh != 64076+2*536 {
		t.Fatalf("poor ratio, small rcv_ssthresh: %d, want %d", c.rcvSsthresh, 64076+2*536)
	}
	lim := uint32(c.t.Sysctl.RmemMax / 16)
	c.rcvCap, c.windowClamp = 4<<20, 4<<20
	c.rcvSsthresh = lim - 1
	c.growWindow(200, 2304)
	if c.rcvSsthresh != lim-1+2*536 {
		t.Fatalf("poor ratio just under rmem[2]/16: rcv_ssthresh %d, want %d", c.rcvSsthresh, lim-1+2*536)
	}
	c.rcvSsthresh = lim + 1
	c.growWindow(200, 2304)
	if c.rcvSsthresh != lim+1 {
		t.Fatalf("poor ratio grew rcv_ssthresh past rmem[2]/16 (%d): %d", lim, c.rcvSsthresh)
	}
	// 200 bytes pinning a 64 KiB buffer earn nothing once rcv_ssthresh
	// is past rmem[2]/512 (64 KiB at 32 MiB): the ratio passes only after
	// seven halvings.
	c = newC()
	c.rcvSsthresh = uint32(c.t.Sysctl.RmemMax/512) + 1
	c.growWindow(200, 65536+1024+256)
	if c.rcvSsthresh != uint32(c.t.Sysctl.RmemMax/512)+1 {
		t.Fatalf("200 bytes in 64 KiB grew rcv_ssthresh to %d", c.rcvSsthresh)
	}
	// Never past the clamp or the free space.
	c = newC()
	c.windowClamp = 70000
	c.growWindow(65160, 65536+1024+256)
	if c.rcvSsthresh != 70000 {
		t.Fatalf("rcv_ssthresh %d beyond the clamp 70000", c.rcvSsthresh)
	}
}

// TestSelectWindowRules: the window offered is min(free space,
// rcv_ssthresh), rounded up to the scale unit, from rcv_nxt; the right
// edge never moves left when rcv_ssthresh falls; a sliver of free space is
// offered as zero (receiver SWS avoidance).
func TestSelectWindowRules(t *testing.T) {
	c := rwndConn()
	c.initRcvWnd(false)
	c.initRcvWindowClamp()
	c.rcvCap, c.windowClamp = 200000, 200000
	c.rcvSsthresh = 150000
	if w := c.selectWindow(); uint32(w)<<7 != 150016 || c.advertised != 150016 {
		t.Fatalf("window %d edge %d, want rcv_ssthresh rounded up to 128: 150016", uint32(w)<<7, c.advertised)
	}
	// 140000 bytes arrive unread: 60000 free, under half the buffer, so
	// rounded down to the scale unit.
	c.rcvNxt, c.rcvq.bytes = 140000, 140000
	if w := c.selectWindow(); uint32(w)<<7 != 59904 {
		t.Fatalf("window %d with 60000 free, want 59904", uint32(w)<<7)
	}
	// All read, then rcv_ssthresh collapses (tcp_clamp_window): the
	// window offered would be 2944 but the edge stays.
	c.rcvq.bytes = 0
	edge := c.advertised
	c.rcvSsthresh = 2920
	if w := c.chooseWindow(); w != 2944 {
		t.Fatalf("chosen %d, want 2944", w)
	}
	c.selectWindow()
	if seqLT(c.advertised, edge) {
		t.Fatalf("right edge moved left: %d -> %d", edge, c.advertised)
	}
	// Nearly full buffer: less than 1/16 of it free offers zero.
	c.rcvq.bytes = c.rcvCap - 1000
	if w := c.chooseWindow(); w != 0 {
		t.Fatalf("offered %d with 1000 bytes free of %d", w, c.rcvCap)
	}
}

// TestClampWindow: queues pinning more than the buffer (tcp_prune_queue)
// grow an unlocked buffer to cover them; a locked one instead drops
// rcv_ssthresh to two segments, so the window stops widening.
func TestClampWindow(t *testing.T) {
	c := rwndConn()
	c.initRcvWnd(false)
	c.initRcvWindowClamp()
	c.rcvSsthresh = 60000
	c.rcvMem = c.rcvSpace() + 10000
	c.clampWindow()
	if c.rcvSsthresh != 60000 || c.rcvSpace() < c.rcvMem {
		t.Fatalf("unlocked: rcv_ssthresh %d, buffer %d for %d pinned", c.rcvSsthresh, c.rcvSpace(), c.rcvMem)
	}
	c.rcvLocked = true
	c.rcvMem = c.rcvSpace() + 10000
	c.clampWindow()
	if c.rcvSsthresh != 2*1460 {
		t.Fatalf("locked: rcv_ssthresh %d, want 2920", c.rcvSsthresh)
	}
}

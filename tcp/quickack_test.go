package tcp_test

import "testing"

// TestQuickAckOption: TCP_QUICKACK off makes the connection interactive
// (pingpong), so even the first data, which would be acknowledged at once
// in quick-ack mode, waits, and a read draining a pushed segment sends
// nothing; setting it on leaves interactive mode and sends the ACK still
// owed at once, as __tcp_sock_set_quickack's tcp_cleanup_rbuf does.
func TestQuickAckOption(t *testing.T) {
	f := newForgedRx(t, 131)
	if !f.srv.QuickAck() {
		t.Fatal("TCP_QUICKACK reads 0 on a new connection, want 1")
	}
	f.srv.SetQuickAck(false)
	if f.srv.QuickAck() || f.srv.Pingpong() != 1 {
		t.Fatalf("after TCP_QUICKACK 0: reads %v, pingpong %d; want 0 and 1", f.srv.QuickAck(), f.srv.Pingpong())
	}
	k := len(f.acks)
	f.send(100, true)
	f.read()
	if a := f.since(k); len(a) != 0 {
		t.Fatalf("interactive mode: ACKs %+v for the first data, want it delayed", a)
	}
	f.srv.SetQuickAck(true)
	f.w.st.Sim.RunFor(0)
	if a := f.since(k); len(a) != 1 || a[0].ack != f.off {
		t.Fatalf("TCP_QUICKACK 1: ACKs %+v, want one of %d at once", a, f.off)
	}
	if !f.srv.QuickAck() || f.srv.Pingpong() != 0 {
		t.Fatalf("after TCP_QUICKACK 1: reads %v, pingpong %d; want 1 and 0", f.srv.QuickAck(), f.srv.Pingpong())
	}
	// Quick-ack mode is back: the next segment is acknowledged at once.
	k = len(f.acks)
	f.send(100, true)
	if a := f.since(k); len(a) != 1 {
		t.Fatalf("after TCP_QUICKACK 1: ACKs %+v for new data, want one at once", a)
	}
	// Data left unread: setting it sends nothing (the queue is not
	// drained), and the delayed-ACK timer still runs.
	f.srv.SetQuickAck(false)
	k = len(f.acks)
	f.send(100, true)
	f.srv.SetQuickAck(true)
	f.w.st.Sim.RunFor(0)
	if a := f.since(k); len(a) != 0 {
		t.Fatalf("TCP_QUICKACK 1 with data unread: ACKs %+v, want none", a)
	}
}

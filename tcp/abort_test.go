package tcp_test

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/tcp"
)

// TestAbortOnDataAfterClose checks tcp_rcv_state_process's rule: data
// reaching a closed (not half-closed) socket in FIN_WAIT2 is answered
// with a RST and the connection is gone, counted as TCPAbortOnData.
func TestAbortOnDataAfterClose(t *testing.T) {
	w := newWorld(t, 11, 1500)
	cli, srv, _ := w.connect(80)
	w.a.Exec().Do(cli.Close)
	if !w.run(time.Second, func() bool { return cli.State() == tcp.FinWait2 }) {
		t.Fatalf("client in %v, want FIN_WAIT2", cli.State())
	}
	var rsts uint64
	w.a.Exec().Do(func() { rsts = w.a.TCP.Stats.OutRsts })
	w.b.Exec().Do(func() { srv.Send([]byte("nobody reads this")) })
	w.run(time.Second, func() bool { return srv.State() == tcp.Closed })
	var st tcp.Stats
	var conns int
	w.a.Exec().Do(func() { st, conns = w.a.TCP.Stats, w.a.TCP.NumConns() })
	if cli.State() != tcp.Closed || conns != 0 {
		t.Fatalf("client %v with %d connections, want closed and none", cli.State(), conns)
	}
	if st.TCPAbortOnData != 1 || st.OutRsts != rsts+1 || st.TCPAbortOnClose != 0 {
		t.Fatalf("TCPAbortOnData %d, OutRsts %d (was %d), TCPAbortOnClose %d", st.TCPAbortOnData, st.OutRsts, rsts, st.TCPAbortOnClose)
	}
	// The peer, in CLOSE_WAIT, takes the RST as tcp_reset does.
	if srv.State() != tcp.Closed || !errors.Is(srv.Err(), syscall.EPIPE) {
		t.Fatalf("server %v %v, want closed with EPIPE", srv.State(), srv.Err())
	}
}

// TestDataAfterCloseWriteDelivered checks that a half-closed socket
// (shutdown(SHUT_WR)) still receives: the abort is for close(2) only.
func TestDataAfterCloseWriteDelivered(t *testing.T) {
	w := newWorld(t, 12, 1500)
	cli, srv, _ := w.connect(80)
	w.a.Exec().Do(cli.CloseWrite)
	if !w.run(time.Second, func() bool { return cli.State() == tcp.FinWait2 }) {
		t.Fatalf("client in %v, want FIN_WAIT2", cli.State())
	}
	msg := []byte("still wanted")
	w.b.Exec().Do(func() { srv.Send(msg); srv.CloseWrite() })
	var got []byte
	buf := make([]byte, 64)
	eof := false
	w.run(time.Second, func() bool {
		w.a.Exec().Do(func() {
			for {
				n, e, err := cli.Recv(buf)
				if err != nil {
					t.Errorf("recv: %v", err)
					eof = true
					return
				}
				got = append(got, buf[:n]...)
				if e {
					eof = true
				}
				if n == 0 {
					return
				}
			}
		})
		return eof
	})
	if !bytes.Equal(got, msg) || !eof {
		t.Fatalf("got %q eof %v, want %q and EOF", got, eof, msg)
	}
	var st tcp.Stats
	w.a.Exec().Do(func() { st = w.a.TCP.Stats })
	if st.TCPAbortOnData != 0 || cli.State() != tcp.TimeWait {
		t.Fatalf("TCPAbortOnData %d, client %v; want 0 and TIME_WAIT", st.TCPAbortOnData, cli.State())
	}
}

// TestAbortOnClose checks tcp_close's rule: closing with unread data
// sends a RST instead of a FIN (TCPAbortOnClose), here also from
// LAST_ACK's side of a half-closed connection.
func TestAbortOnClose(t *testing.T) {
	for _, tc := range []struct {
		name string
		peer func(srv *tcp.Conn)
		cli  func(w *world, cli *tcp.Conn)
		want tcp.State // client's state before it closes
	}{
		{"established", func(srv *tcp.Conn) { srv.Send([]byte("unread")) }, nil, tcp.Established},
		{"close-wait", func(srv *tcp.Conn) { srv.Send([]byte("unread")); srv.CloseWrite() }, nil, tcp.CloseWait},
		{"last-ack", func(srv *tcp.Conn) { srv.Send([]byte("unread")); srv.CloseWrite() }, func(w *world, cli *tcp.Conn) {
			// The peer's link goes down so that our FIN stays unacknowledged.
			w.b.Exec().Do(func() { w.db.Down() })
			w.a.Exec().Do(cli.CloseWrite)
			w.run(100*time.Millisecond, func() bool { return false })
		}, tcp.LastAck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 13, 1500)
			cli, srv, _ := w.connect(80)
			w.b.Exec().Do(func() { tc.peer(srv) })
			w.run(100*time.Millisecond, func() bool { return false })
			if tc.cli != nil {
				tc.cli(w, cli)
			}
			if cli.State() != tc.want || !cli.Readable() {
				t.Fatalf("client %v readable %v, want %v with data", cli.State(), cli.Readable(), tc.want)
			}
			w.a.Exec().Do(cli.Close)
			w.run(time.Second, func() bool { return srv.State() == tcp.Closed })
			var st tcp.Stats
			var conns int
			w.a.Exec().Do(func() { st, conns = w.a.TCP.Stats, w.a.TCP.NumConns() })
			if st.TCPAbortOnClose != 1 || st.OutRsts != 1 || conns != 0 || cli.State() != tcp.Closed {
				t.Fatalf("TCPAbortOnClose %d OutRsts %d conns %d client %v", st.TCPAbortOnClose, st.OutRsts, conns, cli.State())
			}
			if tc.cli == nil && (srv.State() != tcp.Closed || srv.Err() == nil) {
				t.Fatalf("server %v %v, want reset", srv.State(), srv.Err())
			}
		})
	}
}

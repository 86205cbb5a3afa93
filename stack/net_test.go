package stack_test

import (
	"net"
	"testing"
	"time"

	"github.com/usnet/usnet/socket"
	"github.com/usnet/usnet/stack"
)

// TestDialListenAsNetPackage: TCP connections from Namespace.Dial and
// Namespace.Listen start as net.Dial's and net.Listen's do, Nagle off and
// keepalive on at 15 s / 15 s / 9; the socket layer's own DialTCP leaves
// keepalive to the caller, as a raw socket does.
func TestDialListenAsNetPackage(t *testing.T) {
	st, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := st.Add("n")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Delete("n")
	ns.Exec().Do(func() { ns.Lo.Up() })
	l, err := ns.Listen("tcp", "127.0.0.1:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		acc <- c
	}()
	c, err := ns.Dial("tcp", "127.0.0.1:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-acc
	if s == nil {
		t.FailNow()
	}
	defer s.Close()
	want := net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 15 * time.Second, Count: 9}
	for name, x := range map[string]net.Conn{"dialed": c, "accepted": s} {
		tc := x.(*socket.TCPConn)
		if got := tc.KeepAliveConfig(); got != want {
			t.Errorf("%s: keepalive %+v, want %+v", name, got, want)
		}
		if !tc.NoDelay() {
			t.Errorf("%s: Nagle on", name)
		}
	}
	if _, err := ns.Dial("tcp", "127.0.0.1:7001"); err == nil {
		t.Fatal("dial to a closed port succeeded")
	} else if c, _ := ns.Dial("tcp", "127.0.0.1:7001"); c != nil {
		t.Fatalf("a failed Dial returned a non-nil net.Conn (%T)", c)
	}
}

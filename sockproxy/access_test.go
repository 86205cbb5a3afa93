package sockproxy_test

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/usnet/usnet/sockproxy"
	"github.com/usnet/usnet/stack"
)

// limited is a namespace with its own sysctls.
type limited struct {
	*stack.Namespace
	lim sockproxy.Limits
}

func (l limited) Limits() sockproxy.Limits { return l.lim }

// TestUnprivilegedClient: without privileges a client gets what Linux
// gives a process without CAP_NET_BIND_SERVICE and CAP_NET_RAW.
func TestUnprivilegedClient(t *testing.T) {
	ns := loopbackNS(t)
	cl := clientAs(t, ns, sockproxy.Cred{Groups: []uint32{65534}})
	_, err := cl.Listen("tcp", "127.0.0.1:80")
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("listen on port 80: %v, want EACCES", err)
	} else if want := "listen tcp 127.0.0.1:80: bind: permission denied"; err.Error() != want {
		t.Errorf("listen on port 80: %q, want Go's %q", err, want)
	}
	if _, err := cl.ListenPacket("udp", ":1023"); !errors.Is(err, syscall.EACCES) {
		t.Errorf("UDP bind to port 1023: %v, want EACCES", err)
	}
	if _, err := cl.ListenPacket("ip4:icmp", ""); !errors.Is(err, syscall.EPERM) {
		t.Errorf("raw ICMP socket: %v, want EPERM", err)
	}
	if _, err := cl.ListenPacket("udp4:icmp", ""); !errors.Is(err, syscall.EACCES) {
		t.Errorf("ICMP datagram socket outside ping_group_range: %v, want EACCES", err)
	}
	// What Linux leaves to everyone.
	l, err := cl.Listen("tcp", "127.0.0.1:1024")
	if err != nil {
		t.Fatalf("listen on port 1024: %v", err)
	}
	defer l.Close()
	pc, err := cl.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatalf("UDP bind to an ephemeral port: %v", err)
	}
	pc.Close()
	c, err := cl.DialContext(context.Background(), "tcp", "127.0.0.1:1024")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.Close()

	// The namespace's sysctls move the limits.
	cl = clientAs(t, limited{ns, sockproxy.Limits{UnprivilegedPortStart: 80, PingGroupLow: 100, PingGroupHigh: 200}},
		sockproxy.Cred{Groups: []uint32{65534, 150}})
	l80, err := cl.Listen("tcp", "127.0.0.1:80")
	if err != nil {
		t.Errorf("listen on port 80 with ip_unprivileged_port_start 80: %v", err)
	} else {
		l80.Close()
	}
	if _, err := cl.Listen("tcp", "127.0.0.1:79"); !errors.Is(err, syscall.EACCES) {
		t.Errorf("listen on port 79 with ip_unprivileged_port_start 80: %v, want EACCES", err)
	}
	ping, err := cl.ListenPacket("udp4:icmp", "")
	if err != nil {
		t.Errorf("ICMP datagram socket for supplementary group 150 in ping_group_range 100-200: %v", err)
	} else {
		ping.Close()
	}
}

// TestPrivilegedClient: privileges open ports below 1024 and raw
// sockets, but not ICMP datagram sockets outside ping_group_range,
// which Linux refuses to root as well.
func TestPrivilegedClient(t *testing.T) {
	ns := loopbackNS(t)
	cl := clientAs(t, ns, sockproxy.Cred{Privileged: true, Groups: []uint32{0}})
	l, err := cl.Listen("tcp", "127.0.0.1:80")
	if err != nil {
		t.Fatalf("listen on port 80: %v", err)
	}
	l.Close()
	pc, err := cl.ListenPacket("ip4:icmp", "")
	if err != nil {
		t.Fatalf("raw ICMP socket: %v", err)
	}
	pc.Close()
	if _, err := cl.ListenPacket("udp4:icmp", ""); !errors.Is(err, syscall.EACCES) {
		t.Errorf("ICMP datagram socket with ping_group_range \"1 0\": %v, want EACCES", err)
	}
}

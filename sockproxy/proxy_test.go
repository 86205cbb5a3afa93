package sockproxy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/sockproxy"
	"github.com/usnet/usnet/stack"
)

// client returns a proxy client for ns whose control connections are
// socketpairs served in this process: the daemon without its unix socket,
// for a privileged client.
func client(t testing.TB, ns *stack.Namespace) *sockproxy.Client {
	return clientAs(t, ns, sockproxy.Cred{Privileged: true})
}

// clientAs is client for a client with credentials cred.
func clientAs(t testing.TB, ns sockproxy.Namespace, cred sockproxy.Cred) *sockproxy.Client {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return sockproxy.NewClient(func() (*net.UnixConn, error) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		conn := func(fd int) *net.UnixConn {
			f := os.NewFile(uintptr(fd), "ctl")
			defer f.Close()
			c, err := net.FileConn(f)
			if err != nil {
				t.Fatal(err)
			}
			return c.(*net.UnixConn)
		}
		srv, cli := conn(fds[0]), conn(fds[1])
		go sockproxy.Serve(ctx, srv, ns, cred)
		return cli, nil
	})
}

func loopbackNS(t testing.TB) *stack.Namespace {
	s, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := s.Add("p")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Delete("p") })
	ns.Exec().Do(func() { err = ns.Lo.Up() })
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestProxiedUDP(t *testing.T) {
	ns := loopbackNS(t)
	cl := client(t, ns)
	srv, err := cl.ListenPacket("udp", "127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if got := srv.LocalAddr().String(); got != "127.0.0.1:5000" {
		t.Fatalf("local address %s", got)
	}
	c, err := cl.DialContext(context.Background(), "udp", "127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("usnet"), 2000) // 10000 bytes: fragmented on lo? no, lo MTU 65536
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 70000)
	n, from, err := srv.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:n], msg) || from.String() != c.LocalAddr().String() {
		t.Fatalf("got %d bytes from %v; want %d from %v", n, from, len(msg), c.LocalAddr())
	}
	if _, err := srv.WriteTo([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err = c.Read(buf)
	if err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("reply %q %v", buf[:n], err)
	}
}

func TestProxiedErrorsAreErrnos(t *testing.T) {
	ns := loopbackNS(t)
	cl := client(t, ns)
	a, err := cl.ListenPacket("udp", "127.0.0.1:5001")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = cl.ListenPacket("udp", "127.0.0.1:5001")
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second bind: %v, want EADDRINUSE", err)
	}
	_, err = cl.ListenPacket("udp", "10.9.9.9:1")
	if !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Fatalf("foreign bind: %v, want EADDRNOTAVAIL", err)
	}
}

func TestProxiedPing(t *testing.T) {
	ns := loopbackNS(t)
	cl := client(t, ns)
	pc, err := cl.ListenPacket("ip4:icmp", "")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	req := []byte{8, 0, 0, 0, 0, 0, 0, 1, 'h', 'i'}
	if _, err := pc.WriteTo(req, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	// The reply's TTL crosses the proxy, as IP_RECVTTL gives it to
	// iputils ping on Linux.
	n, from, ttl, err := pc.(*sockproxy.PacketConn).ReadFromTTL(buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(req) || buf[0] != 0 || string(buf[8:n]) != "hi" || from.(*net.UDPAddr).IP.String() != "127.0.0.1" {
		t.Fatalf("reply % x from %v", buf[:n], from)
	}
	if ttl != 64 {
		t.Errorf("reply TTL %d, want 64", ttl)
	}
}

// TestProxiedTCP runs when the namespace has TCP.
func TestProxiedTCP(t *testing.T) {
	ns := loopbackNS(t)
	cl := client(t, ns)
	l, err := cl.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		if errors.Is(err, syscall.EPROTONOSUPPORT) {
			t.Skip("no TCP in this build")
		}
		t.Fatal(err)
	}
	defer l.Close()
	payload := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 300000) // 2.1 MB
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c) // echo until the client's FIN, then FIN back
	}()
	c, err := cl.DialContext(context.Background(), "tcp", "127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		c.Write(payload)
		c.(interface{ CloseWrite() error }).CloseWrite()
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("echoed %d bytes, want %d identical", len(got), len(payload))
	}
	if _, err := cl.DialContext(context.Background(), "tcp", "127.0.0.1:8081"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to a closed port: %v, want ECONNREFUSED", err)
	}
}

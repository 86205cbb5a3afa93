package client

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// TestDialListen: a TCP echo and a UDP exchange inside a namespace
// configured through the client, in process and through the daemon's
// socket proxy alike.
func TestDialListen(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		a, b := newNS(t, c, "a"), newNS(t, c, "b")
		must(t, a.AddLink(LinkSpec{Name: "va", Kind: "veth", Peer: "vb", PeerNamespace: "b"}))
		must(t, a.AddAddr("va", netip.MustParsePrefix("10.0.0.1/24")))
		must(t, b.AddAddr("vb", netip.MustParsePrefix("10.0.0.2/24")))
		must(t, a.SetLinkUp("va"))
		must(t, b.SetLinkUp("vb"))

		l, err := b.Listen("tcp", "10.0.0.2:7000")
		must(t, err)
		defer l.Close()
		go func() {
			for {
				s, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer s.Close()
					io.Copy(s, s)
				}()
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		conn, err := a.DialContext(ctx, "tcp", "10.0.0.2:7000")
		must(t, err)
		defer conn.Close()
		if ap, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || ap.String() != "10.0.0.2:7000" {
			t.Fatalf("remote address %v", conn.RemoteAddr())
		}
		_, err = conn.Write([]byte("hello usnet\n"))
		must(t, err)
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || line != "hello usnet\n" {
			t.Fatalf("echo %q %v", line, err)
		}

		pa, err := a.ListenPacket("udp", "10.0.0.1:0")
		must(t, err)
		defer pa.Close()
		pb, err := b.ListenPacket("udp", "10.0.0.2:7001")
		must(t, err)
		defer pb.Close()
		_, err = pa.WriteTo([]byte("ping"), &net.UDPAddr{IP: net.IP{10, 0, 0, 2}, Port: 7001})
		must(t, err)
		pb.SetReadDeadline(time.Now().Add(20 * time.Second))
		buf := make([]byte, 64)
		n, from, err := pb.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "ping" || from.(*net.UDPAddr).IP.String() != "10.0.0.1" {
			t.Fatalf("udp: %q from %v: %v", buf[:n], from, err)
		}

		// Errors are the kernel's errnos.
		if _, err := a.DialContext(ctx, "tcp", "10.0.0.2:7999"); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial to a closed port: %v", err)
		}
		if _, err := c.Namespace("nope").Listen("tcp", ":1"); err == nil {
			t.Fatalf("listen in a missing namespace: %v", err)
		}
	})
}

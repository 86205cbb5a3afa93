package sockproxy_test

import (
	"context"
	"io"
	"testing"
)

// BenchmarkProxiedTCP: bulk data from a proxied connection to a usnet
// socket of the same namespace over lo, through the descriptor.
func BenchmarkProxiedTCP(b *testing.B) {
	ns := loopbackNS(b)
	l, err := ns.Listen("tcp", "127.0.0.1:9000")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.Copy(io.Discard, c)
		c.Close()
	}()
	c, err := client(b, ns).DialContext(context.Background(), "tcp", "127.0.0.1:9000")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProxiedDial: connection set-up and close through the proxy
// (a control connection, the hand-over of the descriptors, the close).
func BenchmarkProxiedDial(b *testing.B) {
	ns := loopbackNS(b)
	l, err := ns.Listen("tcp", "127.0.0.1:9001")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	cl := client(b, ns)
	for range b.N {
		c, err := cl.DialContext(context.Background(), "tcp", "127.0.0.1:9001")
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

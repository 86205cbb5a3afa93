package tools

import (
	"context"
	"io"
	"net"
	"sync"
)

// NCOptions are netcat's -l and -u.
type NCOptions struct {
	Listen bool
	UDP    bool
}

// NC is netcat: it connects to (or, with Listen, accepts one connection
// on) addr in ns and copies in to the connection and the connection to
// out. TCP half-closes when in ends. Like OpenBSD nc, the listener returns
// when the peer closes, and the connecting side when both the peer has
// closed and in has ended: returning earlier would drop the rest of in
// whenever the peer half-closes first (a listener with no input does so
// at once).
func NC(ctx context.Context, ns Namespace, addr string, o NCOptions, in io.Reader, out io.Writer) error {
	var c net.Conn
	var err error
	switch {
	case o.UDP && o.Listen:
		return ncUDPListen(ns, addr, in, out)
	case o.Listen:
		l, lerr := ns.Listen("tcp", addr)
		if lerr != nil {
			return lerr
		}
		stop := context.AfterFunc(ctx, func() { l.Close() })
		defer stop()
		c, err = l.Accept()
		l.Close()
	case o.UDP:
		c, err = ns.DialContext(ctx, "udp", addr)
	default:
		c, err = ns.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(c, in)
		if cw, ok := c.(interface{ CloseWrite() error }); ok && !o.UDP {
			cw.CloseWrite()
		}
	}()
	_, err = io.Copy(out, c)
	if o.UDP || (!o.Listen && ctx.Err() == nil) {
		wg.Wait()
	}
	return err
}

// ncUDPListen prints datagrams arriving at addr and sends input lines to
// the last sender, as `nc -u -l` does.
func ncUDPListen(ns Namespace, addr string, in io.Reader, out io.Writer) error {
	pc, err := ns.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	defer pc.Close()
	var mu sync.Mutex
	var peer net.Addr
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := in.Read(buf)
			mu.Lock()
			p := peer
			mu.Unlock()
			if n > 0 && p != nil {
				pc.WriteTo(buf[:n], p)
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		mu.Lock()
		peer = from
		mu.Unlock()
		if _, err := out.Write(buf[:n]); err != nil {
			return err
		}
	}
}

// Package measure holds the stack-independent measurement loops of the
// benchmark suite: they speak only net.Conn, net.Listener and
// net.PacketConn, so the same loop times gVisor's gonet, the kernel's
// sockets (inside cmd/rrpeer) and usnet's socket package.
package measure

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"
)

// Dialer opens a connection to the server under test.
type Dialer func() (net.Conn, error)

// Bulk sends n bytes over one connection from dial to the listener and
// returns the goodput in Gb/s, timed from the first write until the
// receiver has read the last byte.
func Bulk(ln net.Listener, dial Dialer, n int64) (float64, error) {
	type res struct {
		got int64
		end time.Time
		err error
	}
	done := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- res{err: err}
			return
		}
		defer c.Close()
		buf := make([]byte, 256<<10)
		var got int64
		for got < n {
			k, err := c.Read(buf)
			got += int64(k)
			if err != nil {
				if errors.Is(err, io.EOF) && got >= n {
					break
				}
				done <- res{got: got, err: err}
				return
			}
		}
		done <- res{got: got, end: time.Now()}
	}()
	c, err := dial()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	start := time.Now()
	for sent := int64(0); sent < n; {
		k := min(int64(len(buf)), n-sent)
		w, err := c.Write(buf[:k])
		sent += int64(w)
		if err != nil {
			return 0, fmt.Errorf("bulk write after %d bytes: %w", sent, err)
		}
	}
	r := <-done
	if r.err != nil {
		return 0, fmt.Errorf("bulk read after %d bytes: %w", r.got, r.err)
	}
	return float64(n) * 8 / r.end.Sub(start).Seconds() / 1e9, nil
}

// echoBufs holds ServeEcho's buffers: a connection that is opened and
// closed (connection-rate test) would otherwise cost the server a fresh
// 64 KiB, zeroed and then collected, which measures the garbage
// collector more than the stack, and weighs on usnet, whose server runs
// in the measuring process, more than on the kernel's, in its own.
var echoBufs = sync.Pool{New: func() any { return new([64 << 10]byte) }}

// ServeEcho accepts connections until ln is closed and echoes every byte
// back on each (request/response) or, for a connection that sends nothing
// before closing, just closes it (connection-rate test).
func ServeEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			b := echoBufs.Get().(*[64 << 10]byte)
			defer echoBufs.Put(b)
			buf := b[:]
			for {
				k, err := c.Read(buf)
				if k > 0 {
					if _, werr := c.Write(buf[:k]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// RR runs warm+iters request/response exchanges of size bytes on c (the
// server echoes) and returns the round-trip times of the last iters.
func RR(c net.Conn, size, warm, iters int) ([]time.Duration, error) {
	req := make([]byte, size)
	resp := make([]byte, size)
	out := make([]time.Duration, 0, iters)
	for i := range warm + iters {
		t0 := time.Now()
		if _, err := c.Write(req); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			return nil, err
		}
		if i >= warm {
			out = append(out, time.Since(t0))
		}
	}
	return out, nil
}

// Percentile returns the p-th percentile (0..100) of d, nearest rank.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p/100*float64(len(s)) + 0.5)
	return s[max(0, min(len(s)-1, i-1))]
}

// ConnRate opens and closes n connections one after another (the server
// accepts and closes) and returns connections per second.
func ConnRate(dial Dialer, n int) (float64, error) {
	start := time.Now()
	for i := range n {
		c, err := dial()
		if err != nil {
			return 0, fmt.Errorf("dial %d: %w", i, err)
		}
		c.Close()
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// UDPSink counts datagrams arriving on c until idle passes with none after
// the first, or limit passes in total. It returns the count and the
// seconds between the first and the last datagram.
func UDPSink(c net.PacketConn, idle, limit time.Duration) (int64, float64) {
	buf := make([]byte, 2048)
	var n int64
	var first, last time.Time
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		dl := time.Now().Add(idle)
		if n == 0 {
			dl = end
		}
		c.SetReadDeadline(dl)
		if _, _, err := c.ReadFrom(buf); err != nil {
			if n > 0 {
				break
			}
			continue
		}
		if n == 0 {
			first = time.Now()
		}
		last = time.Now()
		n++
	}
	return n, last.Sub(first).Seconds()
}

// UDPSend writes size-byte datagrams on c (connected) for dur and returns
// how many it sent. Errors such as ENOBUFS are counted as drops, as a
// packet generator does.
func UDPSend(c net.Conn, size int, dur time.Duration) (sent, errs int64) {
	buf := make([]byte, size)
	end := time.Now().Add(dur)
	for time.Now().Before(end) {
		for range 64 {
			if _, err := c.Write(buf); err != nil {
				errs++
			} else {
				sent++
			}
		}
	}
	return sent, errs
}

// UDPRate runs a sink on rx and a sender on tx concurrently for dur and
// returns received packets per second (over the span the sink saw
// traffic) and sent packets per second.
func UDPRate(rx net.PacketConn, tx net.Conn, size int, dur time.Duration) (rxPPS, txPPS float64) {
	var wg sync.WaitGroup
	var got int64
	var span float64
	wg.Add(1)
	go func() {
		defer wg.Done()
		got, span = UDPSink(rx, 300*time.Millisecond, dur+5*time.Second)
	}()
	time.Sleep(10 * time.Millisecond)
	sent, _ := UDPSend(tx, size, dur)
	wg.Wait()
	if span > 0 {
		rxPPS = float64(got) / span
	}
	return rxPPS, float64(sent) / dur.Seconds()
}

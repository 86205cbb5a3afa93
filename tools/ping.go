package tools

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"time"
)

// PingOptions are iputils ping's -c, -i, -s and -W.
type PingOptions struct {
	Count    int           // 0: until ctx ends
	Interval time.Duration // between requests (1 s)
	Size     int           // payload bytes (56)
	Timeout  time.Duration // wait for the last reply (-W, 10 s... iputils waits 2*max rtt; we wait this)
}

// PingStats summarise a run as iputils' last two lines do.
type PingStats struct {
	Sent, Received int
	RTTs           []time.Duration
}

// Ping sends echo requests to dst from ns over an unprivileged ping socket
// and prints iputils ping's output to out.
func Ping(ctx context.Context, ns Namespace, dst string, o PingOptions, out io.Writer) (PingStats, error) {
	var st PingStats
	ip, err := netip.ParseAddr(dst)
	if err != nil || !ip.Unmap().Is4() {
		return st, fmt.Errorf("ping: %s: Name or service not known (usnet takes IPv4 literals)", dst)
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Size < 0 || o.Size > 65507-8 {
		return st, fmt.Errorf("ping: invalid packet size %d", o.Size)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	pc, err := ns.ListenPacket("ip4:icmp", "")
	if err != nil {
		return st, err
	}
	defer pc.Close()
	fmt.Fprintf(out, "PING %s (%s) %d(%d) bytes of data.\n", ip, ip, o.Size, o.Size+28)
	start := time.Now()
	sent := map[uint16]time.Time{}
	replies := make(chan reply, 64)
	go readReplies(pc, replies)
	to := &net.UDPAddr{IP: ip.AsSlice()}
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	var lastSent time.Time
	send := func(seq uint16) error {
		msg := make([]byte, 8+o.Size)
		msg[0] = 8
		binary.BigEndian.PutUint16(msg[6:], seq)
		for i := 8; i < len(msg); i++ {
			msg[i] = byte(i - 8)
		}
		lastSent = time.Now()
		sent[seq] = lastSent
		st.Sent++
		_, err := pc.WriteTo(msg, to)
		return err
	}
	seq := uint16(1)
	if err := send(seq); err != nil {
		return st, err
	}
loop:
	for {
		var deadline <-chan time.Time
		if o.Count > 0 && st.Sent >= o.Count {
			if st.Received >= st.Sent {
				break
			}
			deadline = time.After(time.Until(lastSent.Add(o.Timeout)))
		}
		select {
		case <-ctx.Done():
			break loop
		case <-deadline:
			break loop
		case r, ok := <-replies:
			if !ok {
				break loop
			}
			if r.err != nil {
				fmt.Fprintf(out, "From %s icmp_seq=%d %v\n", ip, seq, r.err)
				continue
			}
			t0, ok := sent[r.seq]
			if !ok {
				continue
			}
			delete(sent, r.seq)
			rtt := time.Since(t0)
			st.Received++
			st.RTTs = append(st.RTTs, rtt)
			if r.ttl > 0 {
				fmt.Fprintf(out, "%d bytes from %s: icmp_seq=%d ttl=%d time=%s ms\n", r.n, r.from, r.seq, r.ttl, ms(rtt))
			} else {
				fmt.Fprintf(out, "%d bytes from %s: icmp_seq=%d time=%s ms\n", r.n, r.from, r.seq, ms(rtt))
			}
		case <-tick.C:
			if o.Count > 0 && st.Sent >= o.Count {
				continue
			}
			seq++
			if err := send(seq); err != nil {
				fmt.Fprintf(out, "ping: sendmsg: %v\n", err)
			}
		}
	}
	loss := 0
	if st.Sent > 0 {
		loss = (st.Sent - st.Received) * 100 / st.Sent
	}
	fmt.Fprintf(out, "\n--- %s ping statistics ---\n", ip)
	fmt.Fprintf(out, "%d packets transmitted, %d received, %d%% packet loss, time %dms\n", st.Sent, st.Received, loss, time.Since(start).Milliseconds())
	if len(st.RTTs) > 0 {
		mn, mx, sum, sq := st.RTTs[0], st.RTTs[0], 0.0, 0.0
		for _, r := range st.RTTs {
			mn, mx = min(mn, r), max(mx, r)
			f := float64(r) / 1e6
			sum += f
			sq += f * f
		}
		avg := sum / float64(len(st.RTTs))
		mdev := math.Sqrt(max(sq/float64(len(st.RTTs))-avg*avg, 0))
		fmt.Fprintf(out, "rtt min/avg/max/mdev = %s/%.3f/%s/%.3f ms\n", ms(mn), avg, ms(mx), mdev)
	}
	if st.Received == 0 {
		return st, errNoReply
	}
	return st, nil
}

var errNoReply = errors.New("no reply")

// IsNoReply reports that no echo reply arrived (ping exits 1).
func IsNoReply(err error) bool { return errors.Is(err, errNoReply) }

type reply struct {
	n    int
	seq  uint16
	from string
	ttl  int // 0: the socket does not say
	err  error
}

// ttlReader is a ping socket that reports each reply's IP TTL
// (socket.PingConn, sockproxy.PacketConn), as IP_RECVTTL does for
// iputils ping.
type ttlReader interface {
	ReadFromTTL(p []byte) (n int, addr net.Addr, ttl int, err error)
}

func readReplies(pc net.PacketConn, out chan<- reply) {
	defer close(out)
	buf := make([]byte, 65536)
	for {
		var n, ttl int
		var from net.Addr
		var err error
		if tr, ok := pc.(ttlReader); ok {
			n, from, ttl, err = tr.ReadFromTTL(buf)
		} else {
			n, from, err = pc.ReadFrom(buf)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return
			}
			out <- reply{err: err}
			continue
		}
		if n < 8 || buf[0] != 0 {
			continue
		}
		ip := from.String()
		if u, ok := from.(*net.UDPAddr); ok {
			ip = u.IP.String()
		}
		out <- reply{n: n, seq: binary.BigEndian.Uint16(buf[6:]), from: ip, ttl: ttl}
	}
}

func ms(d time.Duration) string {
	f := float64(d) / 1e6
	switch {
	case f >= 100:
		return fmt.Sprintf("%.0f", f)
	case f >= 10:
		return fmt.Sprintf("%.1f", f)
	case f >= 1:
		return fmt.Sprintf("%.2f", f)
	}
	return fmt.Sprintf("%.3f", f)
}

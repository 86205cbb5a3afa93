package host

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/socket"
	"github.com/usnet/usnet/tcp"
)

// cookieSeg is a handshake segment seen on usnet's device, with its
// options.
type cookieSeg struct {
	out          bool
	flags        header.TCPFlags
	sport, dport uint16
	win          uint16
	o            header.TCPOptions
}

// TestHostSynCookieOptions: a listener answering every SYN with a cookie
// (tcp_syncookies 2) keeps the SYN's options in the SYN-ACK's timestamp,
// and usnet does it as the kernel does, in both roles.
//   - The kernel, with tcp_timestamps 2 (no random offset), shows the
//     encoding on the wire: the low six bits of its cookie SYN-ACK's TSval
//     are usnet's window scale, SACK-permitted (bit 4) and ECN (bit 5).
//     The kernel's socket then has timestamps, SACK and both window
//     scales (ss -ti).
//   - usnet's cookie SYN-ACK to the kernel carries what the kernel's
//     carries (MSS, window, scale, SACK-permitted, timestamps), and the
//     connection rebuilt from the kernel's ACK has all of them.
func TestHostSynCookieOptions(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("needs socat (test.sh installs it)")
	}
	r := backends(t)["tap"](t)
	sh(t, "ip", "netns", "exec", r.kns, "sysctl", "-qw", "net.ipv4.tcp_rmem=4096 131072 33554432",
		"net.ipv4.tcp_syncookies=2", "net.ipv4.tcp_timestamps=2")
	r.ns.Exec().Do(func() { r.ns.TCP.Sysctl.Syncookies = 2 })
	var mu sync.Mutex
	var segs []cookieSeg
	var kAcks, kTS, kSACK int // the kernel's segments after its cookie SYN-ACK
	tapTCP(r.ns, r.dev, func(out bool, h header.TCP) {
		s := cookieSeg{out: out, flags: h.Flags(), sport: h.SrcPort(), dport: h.DstPort(), win: h.Window()}
		if h.ParseOptions(&s.o) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case h.Flags()&header.TCPFlagSYN != 0:
			segs = append(segs, s)
		case !s.out && s.sport == 9002 && h.Flags()&header.TCPFlagRST == 0: // a reset carries no timestamp
			kAcks++
			if s.o.HasTimestamps {
				kTS++
			}
			if s.o.NumSACK > 0 {
				kSACK++
			}
		}
	})
	find := func(out bool, port uint16, flags header.TCPFlags) cookieSeg {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		for _, s := range segs {
			if s.out == out && (s.dport == port || s.sport == port) && s.flags&^(header.TCPFlagECE|header.TCPFlagCWR) == flags {
				return s
			}
		}
		t.Fatalf("no %v segment (out %v) for port %d in %+v", flags, out, port, segs)
		return cookieSeg{}
	}
	const size = 1 << 20
	synAck := header.TCPFlagSYN | header.TCPFlagACK

	// usnet connects to the kernel's cookie listener and keeps the
	// connection open while ss looks at the kernel's end.
	sink := kernelDiscard(t, r.kns, 9002)
	c := dialKernel(t, r.ns, "10.99.0.1:9002")
	// Losses on the way to the kernel make it answer with SACK blocks,
	// which it sends only if its connection kept SACK-permitted.
	r.ns.Exec().Do(func() { r.dev.SetQdisc(&dropSecondData{}) })
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	ss := sh(t, "ip", "netns", "exec", r.kns, "ss", "-tinH", "state", "established", "( sport = :9002 )")
	if !strings.Contains(ss, "wscale:") {
		t.Errorf("the kernel's cookie connection lost usnet's window scale:\n%s", ss)
	}
	ui := c.(*socket.TCPConn).Info()
	c.Close()
	sink.Wait()
	r.ns.Exec().Do(func() { r.dev.SetQdisc(nil) })
	mu.Lock()
	if kAcks == 0 || kTS != kAcks || kSACK == 0 {
		t.Errorf("the kernel's cookie connection: %d segments, %d with timestamps, %d with SACK blocks", kAcks, kTS, kSACK)
	}
	mu.Unlock()
	uSyn, kSynAck := find(true, 9002, header.TCPFlagSYN), find(false, 9002, synAck)
	want := uint32(uSyn.o.WScale)
	if uSyn.o.SACKPermitted {
		want |= 1 << 4
	}
	if !kSynAck.o.HasTimestamps || kSynAck.o.TSVal&0x3f != want {
		t.Fatalf("kernel cookie SYN-ACK TSval %#x (low bits %#x), want low bits %#x from usnet's SYN %+v",
			kSynAck.o.TSVal, kSynAck.o.TSVal&0x3f, want, uSyn.o)
	}
	if !ui.Timestamps || !ui.SACK || !ui.WScale || int(ui.SndWScale) != int(kSynAck.o.WScale) {
		t.Errorf("usnet client: ts %v sack %v wscale %v snd %d, kernel SYN-ACK %+v", ui.Timestamps, ui.SACK, ui.WScale, ui.SndWScale, kSynAck.o)
	}

	// The kernel connects to usnet's cookie listener.
	l, err := r.ns.Listen("tcp", "10.99.0.2:8082")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type result struct {
		n   int64
		err error
	}
	got := make(chan result, 1)
	infos := make(chan tcp.Info, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		n, err := io.Copy(io.Discard, c)
		infos <- c.(*socket.TCPConn).Info()
		got <- result{n: n, err: err}
		c.Close()
	}()
	cmd := exec.Command("ip", "netns", "exec", r.kns, "socat", "-u", "STDIN", "TCP4:10.99.0.2:8082")
	cmd.Stdin = bytes.NewReader(make([]byte, size))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kernel connect: %v %s", err, out)
	}
	res := <-got
	if res.err != nil || res.n != size {
		t.Fatalf("usnet received %d bytes: %v", res.n, res.err)
	}
	si := <-infos
	var recv uint64
	r.ns.Exec().Do(func() { recv = r.ns.TCP.Stats.SyncookiesRecv })
	if recv == 0 {
		t.Fatal("the kernel's connection was not made from a cookie")
	}
	kSyn, uSynAck := find(false, 8082, header.TCPFlagSYN), find(true, 8082, synAck)
	if uSynAck.o.HasMSS != kSynAck.o.HasMSS || uSynAck.o.MSS != kSynAck.o.MSS ||
		uSynAck.o.HasWScale != kSynAck.o.HasWScale || uSynAck.o.WScale != kSynAck.o.WScale ||
		uSynAck.o.SACKPermitted != kSynAck.o.SACKPermitted || uSynAck.o.HasTimestamps != kSynAck.o.HasTimestamps ||
		uSynAck.win != kSynAck.win {
		t.Errorf("cookie SYN-ACKs differ:\nusnet  win %d %+v\nkernel win %d %+v", uSynAck.win, uSynAck.o, kSynAck.win, kSynAck.o)
	}
	if uSynAck.o.TSEcr != kSyn.o.TSVal {
		t.Errorf("usnet's SYN-ACK echoes %d, the SYN's TSval is %d", uSynAck.o.TSEcr, kSyn.o.TSVal)
	}
	if !si.Timestamps || !si.SACK || !si.WScale || int(si.SndWScale) != int(kSyn.o.WScale) || int(si.RcvWScale) != int(uSynAck.o.WScale) {
		t.Errorf("usnet server rebuilt from the cookie: ts %v sack %v wscale %v snd %d rcv %d; kernel SYN %+v",
			si.Timestamps, si.SACK, si.WScale, si.SndWScale, si.RcvWScale, kSyn.o)
	}
}

// dropSecondData is a FIFO qdisc that drops the second packet carrying
// data (more than headers) and nothing else: one loss, deterministic.
type dropSecondData struct {
	q    []*skb.Buf
	seen int
}

func (d *dropSecondData) Kind() string { return "dropsecond" }

func (d *dropSecondData) Enqueue(b *skb.Buf, _ time.Duration) bool {
	if b.Len() > 14+20+32+100 {
		if d.seen++; d.seen == 2 {
			b.Free()
			return false
		}
	}
	d.q = append(d.q, b)
	return true
}

func (d *dropSecondData) Dequeue(time.Duration) *skb.Buf {
	if len(d.q) == 0 {
		return nil
	}
	b := d.q[0]
	d.q = d.q[1:]
	return b
}

func (d *dropSecondData) Next() (time.Duration, bool) { return 0, false }
func (d *dropSecondData) Len() int                    { return len(d.q) }
func (d *dropSecondData) Reset() {
	for _, b := range d.q {
		b.Free()
	}
	d.q = nil
}

package host

import (
	"io"
	"os/exec"
	"sync"
	"testing"

	"github.com/usnet/usnet/header"
)

// hsSeg is a handshake segment seen on usnet's device.
type hsSeg struct {
	out          bool
	flags        header.TCPFlags
	sport, dport uint16
	win          uint16 // the raw header field
	wscale       int    // -1: no option
}

// TestHostTCPHandshakeWindows: the windows of the handshake, raw header
// fields, equal the kernel's in both roles with the kernel at its default
// tcp_rmem (4096 131072 33554432, Linux 6.18 on this machine): the SYN (64240 at MTU 1500), the
// SYN-ACK (65160 with timestamps), their window scale, and the first ACK
// after the SYN-ACK (63, the SYN's edge kept at scale 10).
func TestHostTCPHandshakeWindows(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("needs socat (test.sh installs it)")
	}
	r := backends(t)["tap"](t)
	sh(t, "ip", "netns", "exec", r.kns, "sysctl", "-qw", "net.ipv4.tcp_rmem=4096 131072 33554432")
	var mu sync.Mutex
	var segs []hsSeg
	tapTCP(r.ns, r.dev, func(out bool, h header.TCP) {
		s := hsSeg{out: out, flags: h.Flags(), sport: h.SrcPort(), dport: h.DstPort(), win: h.Window(), wscale: -1}
		var o header.TCPOptions
		if h.ParseOptions(&o) == nil && o.HasWScale {
			s.wscale = int(o.WScale)
		}
		mu.Lock()
		segs = append(segs, s)
		mu.Unlock()
	})

	// The kernel connects to usnet.
	l, err := r.ns.Listen("tcp", "10.99.0.2:8081")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	out, err := exec.Command("ip", "netns", "exec", r.kns, "sh", "-c",
		"echo hi | socat -u STDIN TCP4:10.99.0.2:8081").CombinedOutput()
	if err != nil {
		t.Fatalf("kernel connect: %v %s", err, out)
	}

	// usnet connects to the kernel.
	sink := kernelDiscard(t, r.kns, 9001)
	c := dialKernel(t, r.ns, "10.99.0.1:9001")
	c.Write([]byte("hi"))
	c.Close()
	sink.Wait()

	mu.Lock()
	defer mu.Unlock()
	find := func(out bool, port uint16, flags header.TCPFlags) *hsSeg {
		for i := range segs {
			s := &segs[i]
			if s.out == out && (s.dport == port || s.sport == port) && s.flags == flags {
				return s
			}
		}
		t.Fatalf("no %v segment (out %v) for port %d in %+v", flags, out, port, segs)
		return nil
	}
	syn, synAck, ack := header.TCPFlagSYN, header.TCPFlagSYN|header.TCPFlagACK, header.TCPFlagACK
	kSyn, uSynAck, kAck := find(false, 8081, syn), find(true, 8081, synAck), find(false, 8081, ack)
	uSyn, kSynAck, uAck := find(true, 9001, syn), find(false, 9001, synAck), find(true, 9001, ack)
	for _, p := range []struct {
		what          string
		usnet, kernel *hsSeg
	}{{"SYN", uSyn, kSyn}, {"SYN-ACK", uSynAck, kSynAck}, {"first ACK", uAck, kAck}} {
		if p.usnet.win != p.kernel.win || p.usnet.wscale != p.kernel.wscale {
			t.Errorf("%s: usnet window %d scale %d, kernel %d scale %d", p.what, p.usnet.win, p.usnet.wscale, p.kernel.win, p.kernel.wscale)
		}
	}
	t.Logf("SYN %d, SYN-ACK %d, first ACK %d (kernel and usnet)", kSyn.win, kSynAck.win, kAck.win)
}

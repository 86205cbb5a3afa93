package host

import (
	"encoding/binary"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/afpacket"
	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// vethNS creates a kernel namespace with a veth pair va/vb, both up, IPv6
// off (so the kernel sends nothing unasked), and returns it.
func vethNS(t testing.TB, tag string) (string, string) {
	kns, path := kernelNS(t, tag)
	sh(t, "ip", "netns", "exec", kns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	sh(t, "ip", "-n", kns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
	sh(t, "ip", "-n", kns, "link", "set", "va", "up")
	sh(t, "ip", "-n", kns, "link", "set", "vb", "up")
	// Frames sent before the kernel's link watch has made the pair
	// operational are dropped; under load that took long enough for a
	// whole flood once (TestAFPacketDropAccounting saw "sent 0").
	for i := 0; ; i++ {
		out := sh(t, "ip", "-n", kns, "-o", "link", "show", "up")
		if strings.Count(out, "state UP") >= 2 {
			break
		}
		if i == 500 {
			t.Fatalf("veth pair not operational after 5 s:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return kns, path
}

// openIn opens a packet-socket port inside the kernel namespace.
func openIn(t testing.TB, path string, c afpacket.Config) (*afpacket.Port, error) {
	var p *afpacket.Port
	err := framedio.InNetns(path, func() error {
		var err error
		p, err = afpacket.Open(c)
		return err
	})
	return p, err
}

func afDevice(t testing.TB, ns *stack.Namespace, path string, c afpacket.Config, backlog int) *netdev.Device {
	t.Helper()
	p, err := openIn(t, path, c)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := framedio.NewDeviceConfig(ns.Dev, "eth0", p, framedio.DeviceConfig{Backlog: backlog})
	if err != nil {
		t.Fatal(err)
	}
	up(t, ns, dev)
	return dev
}

// TestAFPacketARP: the ARP exchange of TestTapARP over a packet socket
// bound to one end of a kernel veth pair, the kernel owning the other.
func TestAFPacketARP(t *testing.T) {
	needRoot(t)
	kns, path := vethNS(t, "afp")
	sh(t, "ip", "-n", kns, "addr", "add", "10.99.0.1/24", "dev", "va")
	// vnd's rule: exclusive use of an interface with addresses is refused.
	if _, err := openIn(t, path, afpacket.Config{HostIf: "va", Mode: afpacket.Exclusive}); !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("exclusive open of an addressed interface: %v, want EBUSY", err)
	}
	if p, err := openIn(t, path, afpacket.Config{HostIf: "va", Mode: afpacket.Shared}); err != nil {
		t.Fatalf("shared open: %v", err)
	} else {
		p.Close()
	}
	ns := usnetNS(t)
	arp := catchARP(ns)
	dev := afDevice(t, ns, path, afpacket.Config{HostIf: "vb", Mode: afpacket.Exclusive}, 0)
	if dev.Kind() != "afpacket" {
		t.Fatalf("kind %q", dev.Kind())
	}
	kernelPing(t, kns, path, 3)
	req, n := arp.waitRequest(t, usnetIP)
	if req.spa != kernelIP {
		t.Fatalf("request from %v", req.spa)
	}
	t.Logf("%d ARP request(s) from %s (offload %v)", n, netdev.FormatMAC(req.sha), framedio.PortOf(dev).Info().Offload)
	sendARPReply(t, ns, dev, usnetIP, req)
	waitNeigh(t, kns, usnetIP, dev.Addr())
	// PACKET_IGNORE_OUTGOING: usnet's own reply did not come back.
	time.Sleep(50 * time.Millisecond)
	arp.mu.Lock()
	for _, f := range arp.frames {
		if m, _ := parseARP(f); m.op != 1 {
			t.Errorf("usnet saw a non-request ARP (its own reply looped back?): %+v", m)
		}
	}
	arp.mu.Unlock()
}

// flood sends n test frames to dst from a packet socket on va, in
// batches through the same framedio port type, and returns how many the
// kernel accepted.
func flood(t testing.TB, path string, dst [6]byte, n int) int {
	t.Helper()
	tx, err := openIn(t, path, afpacket.Config{HostIf: "va", Mode: afpacket.Exclusive, RxBuf: framedio.MinBuf})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	fio := &framedio.FrameIO{VecsPerFrame: 1}
	for range 64 {
		f := make([]byte, 60)
		copy(f, dst[:])
		copy(f[6:], []byte{2, 0, 0, 0, 0, 1})
		binary.BigEndian.PutUint16(f[12:], 0x88b5)
		fio.Vecs = append(fio.Vecs, framedio.Vec{Buf: f, Len: 60})
	}
	sent := 0
	for sent < n {
		w := *fio
		w.Vecs = fio.Vecs[:min(64, n-sent)]
		k, err := tx.Write(&w, framedio.Block)
		if err != nil {
			t.Fatal(err)
		}
		sent += k
	}
	s := tx.Stats()
	if s.TxDrops > 0 {
		t.Fatalf("%d of %d frames refused with ENETDOWN/ENXIO: the host interface was not up", s.TxDrops, n)
	}
	return int(s.TxFrames)
}

// vethDrops returns what the kernel veth dropped between va and vb.
func vethDrops(t testing.TB, kns string) uint64 {
	var total uint64
	for _, f := range []string{"/sys/class/net/va/statistics/tx_dropped", "/sys/class/net/vb/statistics/rx_dropped"} {
		out := sh(t, "ip", "netns", "exec", kns, "cat", f)
		var v uint64
		for _, c := range out {
			if c >= '0' && c <= '9' {
				v = v*10 + uint64(c-'0')
			}
		}
		total += v
	}
	return total
}

// TestAFPacketDropAccounting floods usnet through a one-page receive
// ring: the kernel drops what the ring cannot hold and says so, usnet
// drops what its backlog cannot hold and counts it, and everything sent
// is accounted for: rx_packets + rx_dropped + rx_missed_errors = sent.
func TestAFPacketDropAccounting(t *testing.T) {
	needRoot(t)
	kns, path := vethNS(t, "drop")
	ns := usnetNS(t)
	var got int
	ns.Exec().Do(func() {
		ns.Dev.AddProtocol(0x88b5, func(_ *netdev.Device, bt *skb.Batch) { got += bt.Len(); bt.Free() })
	})
	dev := afDevice(t, ns, path, afpacket.Config{HostIf: "vb", Mode: afpacket.Exclusive, RxBuf: framedio.MinBuf}, 16)
	if rx, _ := framedio.PortOf(dev).Bufs(); rx != 4096 {
		t.Fatalf("ring of %d bytes, want one page", rx)
	}
	const n = 50000
	sent := flood(t, path, dev.Addr(), n) - int(vethDrops(t, kns))
	var s netdev.Stats64
	deadline := time.Now().Add(10 * time.Second)
	for {
		s = stats(ns, dev)
		if s.RxPackets+s.RxDropped+s.RxMissedErrors >= uint64(sent) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("sent %d: rx_packets %d rx_dropped %d (backlog) rx_missed %d (ring) rx_errors %d",
		sent, s.RxPackets, s.RxDropped, s.RxMissedErrors, s.RxErrors)
	if s.RxPackets+s.RxDropped+s.RxMissedErrors != uint64(sent) {
		t.Fatalf("lost silently: %d + %d + %d != %d", s.RxPackets, s.RxDropped, s.RxMissedErrors, sent)
	}
	if s.RxDropped+s.RxMissedErrors == 0 {
		t.Fatal("a one-page ring kept up with a flood: the test proves nothing")
	}
	var g int
	ns.Exec().Do(func() { g = got })
	if uint64(g) != s.RxPackets {
		t.Fatalf("handler saw %d, rx_packets %d", g, s.RxPackets)
	}
}

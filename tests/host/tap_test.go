package host

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/tap"
	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

var (
	kernelIP = netip.MustParseAddr("10.99.0.1")
	usnetIP  = netip.MustParseAddr("10.99.0.2")
)

// tapRig is a usnet TAP device whose host side lives, up with 10.99.0.1/24,
// in a kernel namespace of its own.
func tapRig(t *testing.T, tag string) (*stack.Namespace, *netdev.Device, string, string) {
	needRoot(t)
	kns, path := kernelNS(t, tag)
	ns := usnetNS(t)
	dev, err := tap.New(ns.Dev, "tap0", "utap0", path)
	if err != nil {
		t.Fatal(err)
	}
	up(t, ns, dev)
	sh(t, "ip", "-n", kns, "link", "set", "utap0", "up")
	sh(t, "ip", "-n", kns, "addr", "add", "10.99.0.1/24", "dev", "utap0")
	return ns, dev, kns, path
}

// TestTapARP: the kernel's ARP requests reach usnet, and usnet's ARP reply
// teaches the kernel usnet's MAC: both directions through the TAP.
func TestTapARP(t *testing.T) {
	ns, dev, kns, path := tapRig(t, "tap")
	arp := catchARP(ns)
	if dev.Kind() != "tun" {
		t.Fatalf("kind %q", dev.Kind())
	}
	kernelPing(t, kns, path, 3)
	req, n := arp.waitRequest(t, usnetIP)
	if req.spa != kernelIP {
		t.Fatalf("request from %v, want %v", req.spa, kernelIP)
	}
	t.Logf("%d ARP request(s) for %v from %s", n, req.tpa, netdev.FormatMAC(req.sha))
	sendARPReply(t, ns, dev, usnetIP, req)
	waitNeigh(t, kns, usnetIP, dev.Addr())
	if s := stats(ns, dev); s.RxPackets == 0 || s.TxPackets != 1 || s.TxDropped != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// udpFrame builds an Ethernet/IPv4/UDP frame from usnet to the kernel
// with the UDP checksum left to the far side (CsumPartial: the field
// holds the pseudo-header sum).
func udpFrame(dstMAC, srcMAC [6]byte, port uint16, payload int) []byte {
	f := make([]byte, 14+20+8+payload)
	copy(f[0:6], dstMAC[:])
	copy(f[6:12], srcMAC[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+payload))
	ip[8], ip[9] = 64, 17
	src, dst := usnetIP.As4(), kernelIP.As4()
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	u := f[34:]
	binary.BigEndian.PutUint16(u[0:], 40000)
	binary.BigEndian.PutUint16(u[2:], port)
	binary.BigEndian.PutUint16(u[4:], uint16(8+payload))
	for i := range payload {
		u[8+i] = byte(i)
	}
	// Pseudo-header sum, not complemented: what CHECKSUM_PARTIAL expects.
	s := uint32(src[0])<<8 | uint32(src[1])
	s += uint32(src[2])<<8 | uint32(src[3])
	s += uint32(dst[0])<<8 | uint32(dst[1])
	s += uint32(dst[2])<<8 | uint32(dst[3])
	s += 17 + uint32(8+payload)
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	binary.BigEndian.PutUint16(u[6:], uint16(s))
	return f
}

func ipChecksum(h []byte) uint16 {
	var s uint32
	for i := 0; i < len(h); i += 2 {
		s += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// listenUDP opens a UDP socket on kernelIP:port inside the kernel
// namespace and returns it.
func listenUDP(t testing.TB, path string, port int) net.PacketConn {
	t.Helper()
	var pc net.PacketConn
	err := framedio.InNetns(path, func() error {
		var err error
		pc, err = net.ListenPacket("udp4", netip.AddrPortFrom(kernelIP, uint16(port)).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// TestTapUDPOffload: usnet hands the kernel UDP with an unfinished
// checksum (NEEDS_CSUM in the virtio header) and a UDP GSO super-frame;
// the kernel finishes the checksum, splits the segment and delivers
// every datagram to a socket in its namespace.
func TestTapUDPOffload(t *testing.T) {
	ns, dev, kns, path := tapRig(t, "udp")
	arp := catchARP(ns)
	pc := listenUDP(t, path, 9999)
	// Learn the kernel's MAC from its ARP request and teach it ours.
	kernelPing(t, kns, path, 1)
	req, _ := arp.waitRequest(t, usnetIP)
	sendARPReply(t, ns, dev, usnetIP, req)
	waitNeigh(t, kns, usnetIP, dev.Addr())

	partial := func(b *skb.Buf) {
		b.Csum, b.CsumStart, b.CsumOffset = skb.CsumPartial, b.Pos()+34, 6
	}
	xmit(ns, dev, udpFrame(req.sha, dev.Addr(), 9999, 1400), partial)
	const segs, mss = 6, 1400
	xmit(ns, dev, udpFrame(req.sha, dev.Addr(), 9999, segs*mss), func(b *skb.Buf) {
		partial(b)
		b.GSOSize, b.GSOType = mss, skb.GSOUDP
	})
	buf := make([]byte, 65536)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range 1 + segs {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v (a bad checksum is dropped silently by the kernel)", i, err)
		}
		if n != 1400 || from.(*net.UDPAddr).Port != 40000 {
			t.Fatalf("datagram %d: %d bytes from %v", i, n, from)
		}
		for k := range n {
			if buf[k] != byte(k+(i-min(i, 1))*mss) {
				t.Fatalf("datagram %d: byte %d = %d", i, k, buf[k])
			}
		}
	}
	if s := framedio.PortOf(dev).Stats(); s.TxFrames != 3 || s.TxErrors != 0 {
		t.Fatalf("port stats %+v", s)
	}
}

// TestTapUnregisterCloses: deleting the usnet device stops its backend
// goroutine and closes the TAP, so the kernel removes the host interface.
func TestTapUnregisterCloses(t *testing.T) {
	ns, dev, kns, _ := tapRig(t, "del")
	// Backends of earlier tests may still be on their way out: wait until
	// this device's is the only one. A backend closes its done channel in
	// its last deferred call, so it may also outlive Unregister a moment.
	waitBackends := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); backendGoroutines() != n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("backend goroutines %d, want %d", backendGoroutines(), n)
			}
		}
	}
	waitBackends(1)
	ns.Exec().Do(func() { ns.Dev.Unregister(dev) })
	waitBackends(0)
	if out, err := exec.Command("ip", "-n", kns, "link", "show", "utap0").CombinedOutput(); err == nil {
		t.Fatalf("host interface still there:\n%s", out)
	}
}

func backendGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "framedio.(*driver).rxLoop")
}

// TestTapCarrier: the usnet device is a NIC on the host's TAP, whose
// carrier is on while usnet holds its file (tun_set_iff attaches it and
// linkwatch never runs for it: UNKNOWN while up, as any TAP a process has
// open). usnet's own device raises its carrier at open and drops it at
// stop, each announced by linkwatch (UP, then DOWN while down), and the
// host side does not notice: the file stays attached.
func TestTapCarrier(t *testing.T) {
	ns, dev, kns, _ := tapRig(t, "car")
	state := func() (netdev.OperState, bool) {
		var o netdev.OperState
		var c bool
		ns.Exec().Do(func() {}) // the linkwatch run the change posted
		ns.Exec().Do(func() { o, c = dev.OperState(), dev.Carrier() })
		return o, c
	}
	host := func() string { return sh(t, "ip", "-n", kns, "-o", "link", "show", "utap0") }
	if o, c := state(); o != netdev.OperUp || !c {
		t.Fatalf("usnet tap0 up: %v carrier=%v", o, c)
	}
	if h := host(); !strings.Contains(h, "LOWER_UP") || !strings.Contains(h, "state UNKNOWN") {
		t.Fatalf("host TAP with its file attached:\n%s", h)
	}
	ns.Exec().Do(func() { dev.Down() })
	if o, c := state(); o != netdev.OperDown || c {
		t.Fatalf("usnet tap0 down: %v carrier=%v", o, c)
	}
	if h := host(); !strings.Contains(h, "LOWER_UP") {
		t.Fatalf("host TAP lost its carrier with usnet's device down:\n%s", h)
	}
	up(t, ns, dev)
	if o, c := state(); o != netdev.OperUp || !c {
		t.Fatalf("usnet tap0 up again: %v carrier=%v", o, c)
	}
}

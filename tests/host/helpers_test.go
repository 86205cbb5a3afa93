// Package host holds tests that meet the real host kernel: they need root
// and /dev/net/tun, and each works inside kernel network namespaces it
// creates and deletes itself, never touching the root namespace's
// interfaces or sending traffic outside them.
package host

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/tap"
	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("host tests need root (they create kernel network namespaces and TAP devices)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("host tests need /dev/net/tun")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("host tests need iproute2's ip")
	}
}

func sh(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// kernelNS creates the kernel namespace usnet-host-PID-tag and deletes it
// when the test ends; it returns its name and /run/netns path.
func kernelNS(t testing.TB, tag string) (string, string) {
	t.Helper()
	name := fmt.Sprintf("usnet-host-%d-%s", os.Getpid(), tag)
	exec.Command("ip", "netns", "del", name).Run()
	sh(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	sh(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name, "/run/netns/" + name
}

// usnetNS is a real-time usnet stack with one namespace.
func usnetNS(t testing.TB) *stack.Namespace {
	t.Helper()
	s, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := s.Add("h")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Delete("h") })
	return ns
}

// arpCatcher collects the ARP frames usnet receives (link header pulled).
type arpCatcher struct {
	mu     sync.Mutex
	frames [][]byte
	src    [][6]byte
}

func catchARP(ns *stack.Namespace) *arpCatcher {
	c := &arpCatcher{}
	ns.Exec().Do(func() {
		ns.Dev.AddProtocol(0x0806, func(_ *netdev.Device, bt *skb.Batch) {
			c.mu.Lock()
			for _, b := range bt.Bufs() {
				c.frames = append(c.frames, append([]byte(nil), b.Bytes()...))
				c.src = append(c.src, [6]byte(b.From(b.L2)[6:12]))
			}
			c.mu.Unlock()
			bt.Free()
		})
	})
	return c
}

type arpMsg struct {
	op       uint16
	sha, tha [6]byte
	spa, tpa netip.Addr
}

func parseARP(p []byte) (arpMsg, error) {
	if len(p) < 28 || binary.BigEndian.Uint16(p[0:]) != 1 || binary.BigEndian.Uint16(p[2:]) != 0x0800 || p[4] != 6 || p[5] != 4 {
		return arpMsg{}, fmt.Errorf("not an Ethernet/IPv4 ARP packet: % x", p)
	}
	return arpMsg{
		op: binary.BigEndian.Uint16(p[6:]), sha: [6]byte(p[8:14]), spa: netip.AddrFrom4([4]byte(p[14:18])),
		tha: [6]byte(p[18:24]), tpa: netip.AddrFrom4([4]byte(p[24:28])),
	}, nil
}

// waitRequest waits for an ARP request for tpa and returns it.
func (c *arpCatcher) waitRequest(t testing.TB, tpa netip.Addr) (arpMsg, int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		frames := c.frames
		c.mu.Unlock()
		for _, f := range frames {
			m, err := parseARP(f)
			if err != nil {
				t.Fatal(err)
			}
			if m.op != 1 || m.tpa != tpa {
				t.Fatalf("unexpected ARP %+v", m)
			}
		}
		if len(frames) > 0 {
			m, _ := parseARP(frames[0])
			return m, len(frames)
		}
	}
	t.Fatalf("no ARP request for %v reached usnet", tpa)
	return arpMsg{}, 0
}

// sendARPReply makes usnet announce "ip is-at dev's MAC" to the requester.
func sendARPReply(t testing.TB, ns *stack.Namespace, dev *netdev.Device, ip netip.Addr, req arpMsg) {
	f := make([]byte, 14+28)
	copy(f[0:6], req.sha[:])
	mac := dev.Addr()
	copy(f[6:12], mac[:])
	binary.BigEndian.PutUint16(f[12:], 0x0806)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:], 1)
	binary.BigEndian.PutUint16(a[2:], 0x0800)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], 2)
	copy(a[8:14], mac[:])
	ip4 := ip.As4()
	copy(a[14:18], ip4[:])
	copy(a[18:24], req.sha[:])
	spa := req.spa.As4()
	copy(a[24:28], spa[:])
	xmit(ns, dev, f, nil)
}

func xmit(ns *stack.Namespace, dev *netdev.Device, frame []byte, prep func(*skb.Buf)) {
	ns.Exec().Do(func() {
		b := ns.Dev.Pool().GetData(frame)
		if prep != nil {
			prep(b)
		}
		bt := skb.NewBatch(1)
		bt.Add(b)
		dev.Xmit(bt)
	})
}

// waitNeigh waits until the kernel namespace's neighbour table maps ip to mac.
func waitNeigh(t testing.TB, kns string, ip netip.Addr, mac [6]byte) {
	t.Helper()
	want := netdev.FormatMAC(mac)
	var out string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out = sh(t, "ip", "-n", kns, "neigh", "show", ip.String())
		if strings.Contains(out, want) {
			return
		}
	}
	t.Fatalf("kernel did not learn %v is-at %s; neigh: %q", ip, want, out)
}

// kernelPing makes the kernel in namespace kns resolve usnetIP, which
// sends ARP requests out of its interface: `ping -c count` when iputils
// is installed, otherwise count UDP datagrams from a socket opened inside
// the namespace (the kernel resolves the neighbour the same way). It does
// not wait for the replies that usnet's ARP-less stack will not send.
func kernelPing(t testing.TB, kns, path string, count int) {
	t.Helper()
	if _, err := exec.LookPath("ping"); err == nil {
		cmd := exec.Command("ip", "netns", "exec", kns, "ping", "-c", fmt.Sprint(count), "-i", "0.3", "-W", "1", usnetIP.String())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return
	}
	var c net.Conn
	err := framedio.InNetns(path, func() error {
		var err error
		c, err = net.Dial("udp4", netip.AddrPortFrom(usnetIP, 9).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer c.Close()
		for range count {
			c.Write([]byte("ping"))
			time.Sleep(300 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { <-done })
}

func up(t testing.TB, ns *stack.Namespace, d *netdev.Device) {
	t.Helper()
	var err error
	ns.Exec().Do(func() { err = d.Up() })
	if err != nil {
		t.Fatal(err)
	}
}

func stats(ns *stack.Namespace, d *netdev.Device) netdev.Stats64 {
	var s netdev.Stats64
	ns.Exec().Do(func() { s = d.Stats })
	return s
}

// hostMAC returns the MAC of utap0 in the kernel namespace.
func hostMAC(t testing.TB, kns string) []byte {
	out := sh(t, "ip", "netns", "exec", kns, "cat", "/sys/class/net/utap0/address")
	hw, err := net.ParseMAC(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	return hw
}

func tapNew(ns *stack.Namespace, path string) (*netdev.Device, error) {
	return tap.New(ns.Dev, "tap0", "utap0", path)
}

// kernelDiscard starts a socat in kernel namespace kns that accepts one
// TCP connection on 10.99.0.1:port and discards what arrives; it is
// killed when the test ends.
func kernelDiscard(t testing.TB, kns string, port int) *exec.Cmd {
	t.Helper()
	sink := exec.Command("ip", "netns", "exec", kns, "socat", "-u", fmt.Sprintf("TCP4-LISTEN:%d,bind=10.99.0.1,reuseaddr", port), "OPEN:/dev/null")
	if err := sink.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Process.Kill() })
	return sink
}

// dialKernel connects from usnet namespace ns to addr, retrying while
// the kernel's listener starts (dialRetry).
func dialKernel(t testing.TB, ns *stack.Namespace, addr string) net.Conn {
	t.Helper()
	c, err := dialRetry(func() (net.Conn, error) { return ns.Dial("tcp", addr) })
	if err != nil {
		t.Fatalf("dial the kernel at %s: %v", addr, err)
	}
	return c
}

// frameTCP returns the TCP header of an Ethernet frame carrying IPv4
// TCP, or nil.
func frameTCP(fr []byte) header.TCP {
	if len(fr) < 14+20+20 || fr[12] != 8 || fr[13] != 0 || fr[14+9] != 6 {
		return nil
	}
	return header.TCP(fr[14+int(fr[14]&15)*4:])
}

// tapTCP calls fn, from dev's executor, for every TCP segment dev sends
// (out) or receives; the returned func removes the tap (on the executor).
func tapTCP(ns *stack.Namespace, dev *netdev.Device, fn func(out bool, h header.TCP)) (remove func()) {
	ns.Exec().Do(func() {
		remove = ns.Dev.AddTap(dev, func(_ *netdev.Device, b *skb.Buf, dir netdev.Direction, _ int64) {
			if h := frameTCP(b.Bytes()); h != nil {
				fn(dir == netdev.DirOut, h)
			}
		})
	})
	return remove
}

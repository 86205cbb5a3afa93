package host

import (
	"bytes"
	"net"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/afpacket"
	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/socket"
	"github.com/usnet/usnet/stack"
)

// ipRig is a usnet namespace whose device dev reaches a kernel namespace
// (kernelIP/24 on the kernel side) and has usnetIP/24 itself.
type ipRig struct {
	ns        *stack.Namespace
	dev       *netdev.Device
	kns, path string
}

func addIP(t testing.TB, ns *stack.Namespace, d *netdev.Device, p string) {
	t.Helper()
	pre := netip.MustParsePrefix(p)
	var err error
	ns.Exec().Do(func() {
		if !ns.Lo.IsUp() {
			ns.Lo.Up()
		}
		_, err = ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: pre.Addr(), Prefix: pre})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// backends returns the two host backends as rigs: a TAP device and an
// AF_PACKET socket on one end of a kernel veth pair.
func backends(t *testing.T) map[string]func(t *testing.T) ipRig {
	return map[string]func(t *testing.T) ipRig{
		"tap": func(t *testing.T) ipRig {
			ns, dev, kns, path := tapRig(t, "iptap")
			addIP(t, ns, dev, "10.99.0.2/24")
			return ipRig{ns, dev, kns, path}
		},
		"afpacket": func(t *testing.T) ipRig {
			needRoot(t)
			kns, path := vethNS(t, "ipafp")
			sh(t, "ip", "-n", kns, "addr", "add", "10.99.0.1/24", "dev", "va")
			ns := usnetNS(t)
			dev := afDevice(t, ns, path, afpacket.Config{HostIf: "vb", Mode: afpacket.Exclusive}, 0)
			addIP(t, ns, dev, "10.99.0.2/24")
			return ipRig{ns, dev, kns, path}
		},
	}
}

func TestHostPingBothWays(t *testing.T) {
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("needs iputils-ping (test.sh installs it)")
	}
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			r := mk(t)
			// kernel -> usnet: ARP from the kernel, usnet replies to both.
			out, err := exec.Command("ip", "netns", "exec", r.kns, "ping", "-c", "3", "-i", "0.2", "-W", "2", usnetIP.String()).CombinedOutput()
			if err != nil {
				t.Fatalf("kernel ping usnet: %v\n%s", err, out)
			}
			// usnet -> kernel over a ping socket, 1400-byte payload.
			c, err := socket.ListenPing(r.ns.Exec(), r.ns.Ping)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for seq := 1; seq <= 3; seq++ {
				msg := make([]byte, 8+1400)
				msg[0] = 8
				msg[7] = byte(seq)
				if _, err := c.WriteTo(msg, &net.UDPAddr{IP: kernelIP.AsSlice()}); err != nil {
					t.Fatal(err)
				}
				c.SetReadDeadline(time.Now().Add(3 * time.Second))
				buf := make([]byte, 2000)
				n, from, err := c.ReadFrom(buf)
				if err != nil {
					t.Fatalf("usnet ping kernel, seq %d: %v", seq, err)
				}
				if n != len(msg) || buf[0] != 0 || buf[7] != byte(seq) || from.(*net.UDPAddr).IP.String() != kernelIP.String() {
					t.Fatalf("reply %d bytes type %d seq %d from %v", n, buf[0], buf[7], from)
				}
			}
		})
	}
}

func TestHostUDPBothWaysWithFragments(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			r := mk(t)
			sizes := []int{1, 1472, 1473, 4000, 20000}
			// kernel -> usnet
			srv, err := socket.ListenUDP(r.ns.Exec(), r.ns.UDP, netip.AddrPortFrom(usnetIP, 7000), false)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			var kc net.Conn
			if err := framedio.InNetns(r.path, func() error {
				var err error
				kc, err = net.Dial("udp4", netip.AddrPortFrom(usnetIP, 7000).String())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer kc.Close()
			buf := make([]byte, 70000)
			for _, n := range sizes {
				msg := pattern(n)
				if _, err := kc.Write(msg); err != nil {
					t.Fatal(err)
				}
				srv.SetReadDeadline(time.Now().Add(3 * time.Second))
				got, from, err := srv.ReadFrom(buf)
				if err != nil {
					t.Fatalf("usnet receiving %d bytes from the kernel: %v", n, err)
				}
				if !bytes.Equal(buf[:got], msg) || from.(*net.UDPAddr).IP.String() != kernelIP.String() {
					t.Fatalf("usnet got %d bytes from %v, want %d from %v", got, from, n, kernelIP)
				}
			}
			// usnet -> kernel
			kl := listenUDP(t, r.path, 7001)
			uc, err := socket.DialUDP(r.ns.Exec(), r.ns.UDP, netip.AddrPort{}, netip.AddrPortFrom(kernelIP, 7001))
			if err != nil {
				t.Fatal(err)
			}
			defer uc.Close()
			for _, n := range sizes {
				msg := pattern(n)
				if _, err := uc.Write(msg); err != nil {
					t.Fatal(err)
				}
				kl.SetReadDeadline(time.Now().Add(3 * time.Second))
				got, _, err := kl.ReadFrom(buf)
				if err != nil {
					t.Fatalf("kernel receiving %d bytes from usnet: %v", n, err)
				}
				if !bytes.Equal(buf[:got], msg) {
					t.Fatalf("kernel got %d bytes, want %d", got, n)
				}
			}
			var st ipv4.Stats
			r.ns.Exec().Do(func() { st = r.ns.IPv4.Stats })
			if st.ReasmOKs == 0 || st.FragCreates == 0 {
				t.Fatalf("no fragments on the usnet side: %+v", st)
			}
		})
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + n)
	}
	return b
}

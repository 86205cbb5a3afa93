package host

import (
	"encoding/binary"
	"net"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/tcp"
	"github.com/usnet/usnet/udp"
)

// TestBadFramesFromKernel: malformed frames written by the kernel side of
// the TAP (a packet socket on the host interface) are counted and dropped;
// usnet keeps answering ping and keeps its listener.
func TestBadFramesFromKernel(t *testing.T) {
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("needs iputils-ping")
	}
	r := backends(t)["tap"](t)
	l, err := tcpListen(r)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dst := r.dev.Addr()
	src := [6]byte{0x02, 0, 0, 0, 0, 0x77}
	eth := func(proto uint16, payload []byte) []byte {
		f := make([]byte, 14+len(payload))
		copy(f[0:6], dst[:])
		copy(f[6:12], src[:])
		binary.BigEndian.PutUint16(f[12:], proto)
		copy(f[14:], payload)
		return f
	}
	ipPkt := func(proto byte, frag uint16, totLen int, payload []byte, fix bool) []byte {
		p := make([]byte, 20+len(payload))
		p[0] = 0x45
		binary.BigEndian.PutUint16(p[2:], uint16(totLen))
		binary.BigEndian.PutUint16(p[4:], 0x4242)
		binary.BigEndian.PutUint16(p[6:], frag)
		p[8], p[9] = 64, proto
		copy(p[12:16], kernelIP.AsSlice())
		copy(p[16:20], usnetIP.AsSlice())
		copy(p[20:], payload)
		if fix {
			binary.BigEndian.PutUint16(p[10:], header.Checksum(p[:20]))
		}
		return p
	}
	allFlags := make([]byte, 20)
	binary.BigEndian.PutUint16(allFlags[0:], 4444)
	binary.BigEndian.PutUint16(allFlags[2:], 8081)
	allFlags[12] = 5 << 4
	allFlags[13] = 0xff // FIN SYN RST PSH ACK URG ECE CWR
	tcpAll := ipPkt(6, 0, 40, allFlags, true)
	binary.BigEndian.PutUint16(tcpAll[20+16:], ipv4.TransportChecksum(kernelIP, usnetIP, 6, tcpAll[20:]))
	udpBad := ipPkt(17, 0, 36, []byte{0, 9, 0, 9, 0, 16, 0xde, 0xad, 1, 2, 3, 4, 5, 6, 7, 8}, true)
	frames := [][]byte{
		{1, 2, 3},                       // runt
		eth(0x0800, []byte{0x45, 0, 0}), // truncated IP header
		eth(0x0800, ipPkt(17, 0, 28, make([]byte, 8), false)),                             // bad header checksum
		eth(0x0800, ipPkt(17, 0, 9000, make([]byte, 8), true)),                            // total length beyond the frame
		eth(0x0800, append([]byte{0x43}, ipPkt(17, 0, 28, make([]byte, 8), true)[1:]...)), // IHL 3
		eth(0x0800, ipPkt(17, 0x2000, 44, make([]byte, 24), true)),                        // first fragment, 24 bytes
		eth(0x0800, ipPkt(17, 0x2001, 44, make([]byte, 24), true)),                        // overlapping fragment (offset 8)
		eth(0x0800, tcpAll), // TCP with every flag set, to the listener
		eth(0x0800, ipPkt(6, 0, 30, make([]byte, 10), true)), // truncated TCP header
		eth(0x0800, udpBad),       // UDP with a bad checksum
		eth(0x0806, []byte{0, 1}), // truncated ARP
	}
	var st0 ipv4.Stats
	r.ns.Exec().Do(func() { st0 = r.ns.IPv4.Stats })
	err = framedio.InNetns(r.path, func() error {
		ifi, err := net.InterfaceByName("utap0")
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}
		for round := 0; round < 50; round++ {
			for _, f := range frames {
				if err := unix.Sendto(fd, f, 0, sa); err != nil && len(f) >= 14 {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// usnet keeps serving: the kernel's ping is answered.
	if out, err := exec.Command("ip", "netns", "exec", r.kns, "ping", "-c", "2", "-W", "2", usnetIP.String()).CombinedOutput(); err != nil {
		t.Fatalf("ping after the bad frames: %v\n%s", err, out)
	}
	var st ipv4.Stats
	var ts tcp.Stats
	var us udp.Stats
	r.ns.Exec().Do(func() { st, ts, us = r.ns.IPv4.Stats, r.ns.TCP.Stats, r.ns.UDP.Stats })
	if st.InHdrErrors-st0.InHdrErrors == 0 || st.InTruncatedPkts+st.InHdrErrors-st0.InHdrErrors-st0.InTruncatedPkts < 100 {
		t.Fatalf("header errors not counted: %+v", st)
	}
	if ts.InErrs == 0 || us.InCsumErrors == 0 {
		t.Fatalf("transport errors not counted: tcp %+v udp %+v", ts, us)
	}
	t.Logf("ip hdr errors %d, truncated %d, reasm fails %d; tcp in errs %d, rsts out %d; udp csum errors %d",
		st.InHdrErrors-st0.InHdrErrors, st.InTruncatedPkts-st0.InTruncatedPkts, st.ReasmFails, ts.InErrs, ts.OutRsts, us.InCsumErrors)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func tcpListen(r ipRig) (net.Listener, error) {
	return r.ns.Listen("tcp", "10.99.0.2:8081")
}

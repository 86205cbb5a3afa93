package capture_test

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usnet/usnet/capture"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/pcapng"
	"github.com/usnet/usnet/stack"
)

// TestCaptureGSOSuperPackets captures a TCP transfer over an in-process
// veth, where segments cross as GSO super-packets: each is one frame
// longer than the MTU, marked with a comment naming its segment size, and
// its checksums, left partial on the link, are complete in the file.
// tshark, when installed, reads the file without a warning.
func TestCaptureGSOSuperPackets(t *testing.T) {
	st, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := st.Add("a")
	b, _ := st.Add("b")
	da, db, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	ipA, ipB := netip.MustParseAddr("10.9.0.1"), netip.MustParseAddr("10.9.0.2")
	for i, ns := range []*stack.Namespace{a, b} {
		d, ip := da, ipA
		if i == 1 {
			d, ip = db, ipB
		}
		d.Up()
		if _, err := ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: ip, Prefix: netip.PrefixFrom(ip, 24)}); err != nil {
			t.Fatal(err)
		}
	}
	var out, in bytes.Buffer
	c, err := capture.Start(da, &out, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The receiving end too: the super-packets arrive unsplit.
	cb, err := capture.Start(db, &in, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := b.TCP.Listen(netip.AddrPortFrom(ipB, 9000), 4)
	if err != nil {
		t.Fatal(err)
	}
	sink := make([]byte, 64<<10)
	received := 0
	l.OnAcceptable = func() {
		for s := l.Accept(); s != nil; s = l.Accept() {
			s.OnReadable = func() {
				for {
					n, _, _ := s.Recv(sink)
					received += n
					if n == 0 {
						return
					}
				}
			}
		}
	}
	conn, err := a.TCP.Connect(netip.AddrPort{}, netip.AddrPortFrom(ipB, 9000))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("usnet capture "), 1<<16) // ~900 KiB
	sent := 0
	conn.OnWritable = func() {
		for sent < len(data) {
			n, err := conn.Send(data[sent:])
			if n == 0 || err != nil {
				return
			}
			sent += n
		}
	}
	st.Sim.RunFor(time.Second)
	if received != len(data) {
		t.Fatalf("received %d of %d bytes", received, len(data))
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := cb.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := superPackets(t, in.Bytes(), pcapng.Inbound); n == 0 {
		t.Fatal("no frame longer than the MTU reached the peer's end of the veth")
	}
	r, err := pcapng.NewReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var frames, supers int
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		frames++
		if len(p.Data) <= 1514 {
			continue
		}
		supers++
		if !strings.Contains(p.Comment, "GSO super-packet: segment payload") {
			t.Fatalf("frame of %d bytes without the GSO comment (%q)", len(p.Data), p.Comment)
		}
		ip := p.Data[14:]
		ihl := int(ip[0]&15) * 4
		if header.Checksum(ip[:ihl]) != 0 {
			t.Fatalf("IP header checksum incomplete in a super-packet")
		}
		if ipv4.TransportChecksum(netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20])), 6, ip[ihl:]) != 0 {
			t.Fatalf("TCP checksum of a %d-byte super-packet is not complete in the capture", len(p.Data))
		}
	}
	if supers == 0 {
		t.Fatalf("%d frames, none longer than the MTU: the transfer did not cross as super-packets", frames)
	}
	t.Logf("%d frames, %d GSO super-packets", frames, supers)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark not installed: the dissector check is skipped")
		return
	}
	file := filepath.Join(t.TempDir(), "gso.pcapng")
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := exec.Command("tshark", "-n", "-r", file, "-z", "expert,warn").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, res)
	}
	if strings.Contains(string(res), "Malformed") || strings.Contains(string(res), "Bad checksum") {
		t.Fatalf("tshark finds errors:\n%s", res)
	}
}

// superPackets counts the frames longer than an MTU-sized Ethernet frame
// in a capture, in direction dir.
func superPackets(t *testing.T, file []byte, dir pcapng.Direction) int {
	t.Helper()
	r, err := pcapng.NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		p, err := r.Next()
		if err != nil {
			return n
		}
		if len(p.Data) > 1514 && p.Direction == dir {
			n++
		}
	}
}

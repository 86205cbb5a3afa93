package header_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/usnet/usnet/header"
)

func TestICMPv4Echo(t *testing.T) {
	msg := []byte{8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd', 'e', 'f', 'g'}
	c := ^refSum(msg)
	msg[2], msg[3] = byte(c>>8), byte(c)
	m, err := header.ParseICMPv4(msg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type() != header.ICMPv4Echo || m.Code() != 0 || m.ID() != 0x1234 || m.Seq() != 1 ||
		m.Checksum() != c || string(m.Payload()) != "abcdefg" || m.IsError() {
		t.Fatalf("fields %+v", m.Fields())
	}
	if _, _, err := m.Original(); !errors.Is(err, header.ErrBadField) {
		t.Fatalf("echo has no original: %v", err)
	}
	// The reply a host sends: type 0, same rest and data.
	out := append([]byte(nil), msg...)
	r, err := header.BuildICMPv4(out, header.ICMPv4Fields{Type: header.ICMPv4EchoReply, Rest: m.Rest()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := header.ParseICMPv4(r); err != nil || r.ID() != 0x1234 || r.Seq() != 1 {
		t.Fatalf("reply: %v", err)
	}
	msg[9] ^= 1
	if _, err := header.ParseICMPv4(msg); !errors.Is(err, header.ErrBadChecksum) {
		t.Fatal(err)
	}
	if _, err := header.ParseICMPv4(msg[:7]); !errors.Is(err, header.ErrTruncated) {
		t.Fatal(err)
	}
}

func TestICMPv4FragNeeded(t *testing.T) {
	orig := classicPacket(0)
	b := make([]byte, 8+28)
	copy(b[8:], orig[:28])
	m, err := header.BuildICMPv4(b, header.ICMPv4Fields{Type: header.ICMPv4DestUnreach, Code: header.ICMPv4FragNeeded})
	if err != nil {
		t.Fatal(err)
	}
	m.SetMTU(1400)
	m.FillChecksum()
	m, err = header.ParseICMPv4(b)
	if err != nil {
		t.Fatal(err)
	}
	if !m.IsError() || m.MTU() != 1400 {
		t.Fatal("fields")
	}
	ip, l4, err := m.Original()
	if err != nil {
		t.Fatal(err)
	}
	if ip.Dst() != netip.MustParseAddr("192.168.0.199") || ip.Protocol() != header.IPProtoUDP ||
		!bytes.Equal(l4, orig[20:28]) || len(ip.Payload()) != 8 {
		t.Fatalf("original %+v", ip.Fields())
	}
	// Quoted header without 8 transport bytes, or with a bad IHL.
	short := append([]byte(nil), b[:8+27]...)
	if _, _, err := header.ICMPv4(short).Original(); !errors.Is(err, header.ErrTruncated) {
		t.Fatalf("short quote: %v", err)
	}
	b[8] = 0x44
	if _, _, err := header.ICMPv4(b).Original(); !errors.Is(err, header.ErrBadLength) {
		t.Fatalf("ihl 4: %v", err)
	}
}

func TestICMPv4OtherFields(t *testing.T) {
	m := header.ICMPv4(make([]byte, 8))
	m.SetType(header.ICMPv4ParamProblem)
	m.SetPointer(22)
	if m.Pointer() != 22 || m.Rest() != 22<<24 {
		t.Fatal("pointer")
	}
	m.SetID(0xbeef)
	m.SetSeq(7)
	if m.ID() != 0xbeef || m.Seq() != 7 {
		t.Fatal("id/seq")
	}
	m.SetType(header.ICMPv4Redirect)
	m.SetRest(0x0a000001)
	if m.Gateway() != netip.MustParseAddr("10.0.0.1") {
		t.Fatal("gateway")
	}
	for typ := range 256 {
		want := typ == 3 || typ == 4 || typ == 5 || typ == 11 || typ == 12
		if header.IsICMPv4Error(uint8(typ)) != want {
			t.Fatalf("IsICMPv4Error(%d)", typ)
		}
	}
}

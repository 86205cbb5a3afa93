package header_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/usnet/usnet/header"
)

func TestMAC(t *testing.T) {
	m, err := header.ParseMAC("02:AB:cd:00:11:ff")
	if err != nil {
		t.Fatal(err)
	}
	if m != (header.MAC{0x02, 0xab, 0xcd, 0x00, 0x11, 0xff}) || m.String() != "02:ab:cd:00:11:ff" {
		t.Fatalf("got %v", m)
	}
	if m2, err := header.ParseMAC("02-ab-cd-00-11-ff"); err != nil || m2 != m {
		t.Fatalf("hyphen form: %v %v", m2, err)
	}
	for _, bad := range []string{"", "02:ab:cd:00:11", "02:ab:cd:00:11:ff:", "02:ab-cd:00:11:ff", "0g:ab:cd:00:11:ff", "2:ab:cd:00:11:ff0"} {
		if _, err := header.ParseMAC(bad); !errors.Is(err, header.ErrBadField) {
			t.Errorf("ParseMAC(%q) err %v", bad, err)
		}
	}
	tests := []struct {
		m                                   header.MAC
		bcast, mcast, zero, valid, localAdm bool
	}{
		{header.BroadcastMAC(), true, true, false, false, true},
		{header.MAC{0x01, 0x00, 0x5e, 0, 0, 1}, false, true, false, false, false},
		{header.MAC{}, false, false, true, false, false},
		{header.MAC{0x02, 0, 0, 0, 0, 1}, false, false, false, true, true},
		{header.MAC{0x00, 0x1b, 0x21, 1, 2, 3}, false, false, false, true, false},
	}
	for _, tt := range tests {
		if tt.m.IsBroadcast() != tt.bcast || tt.m.IsMulticast() != tt.mcast || tt.m.IsZero() != tt.zero ||
			tt.m.IsValid() != tt.valid || tt.m.IsLocal() != tt.localAdm {
			t.Errorf("%v: flags wrong", tt.m)
		}
	}
}

func TestEtherTypeString(t *testing.T) {
	if header.EtherTypeIPv4.String() != "IPv4" || header.EtherType(0x1234).String() != "0x1234" {
		t.Fatal(header.EtherType(0x1234).String())
	}
}

func TestEthernet(t *testing.T) {
	frame := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // dst
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
		0x08, 0x06, // ARP
		0xde, 0xad,
	}
	e, err := header.ParseEthernet(frame)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Dst().IsBroadcast() || e.Src() != (header.MAC{2, 0, 0, 0, 0, 1}) || e.EtherType() != header.EtherTypeARP ||
		!bytes.Equal(e.Payload(), []byte{0xde, 0xad}) {
		t.Fatalf("fields: %+v", e.Fields())
	}
	out := make([]byte, 16)
	copy(out[14:], frame[14:])
	if _, err := header.BuildEthernet(out, e.Fields()); err != nil || !bytes.Equal(out, frame) {
		t.Fatalf("build: %x %v", out, err)
	}
	if _, err := header.ParseEthernet(frame[:13]); !errors.Is(err, header.ErrTruncated) {
		t.Fatal(err)
	}
}

func TestFrameQinQ(t *testing.T) {
	frame := []byte{
		0x01, 0x00, 0x5e, 0x00, 0x00, 0x01,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x88, 0xa8, 0xb0, 0x64, // S-tag: PCP 5, DEI 1, VID 100
		0x81, 0x00, 0x0f, 0xff, // C-tag: PCP 0, VID 4095
		0x08, 0x00, // IPv4
		0x45,
	}
	var f header.Frame
	if err := header.ParseFrame(frame, &f); err != nil {
		t.Fatal(err)
	}
	want0 := header.VLANTag{TPID: header.EtherTypeQinQ, PCP: 5, DEI: true, VID: 100}
	want1 := header.VLANTag{TPID: header.EtherTypeVLAN, PCP: 0, DEI: false, VID: 4095}
	if f.NumTags != 2 || f.Tags[0] != want0 || f.Tags[1] != want1 || f.Type != header.EtherTypeIPv4 ||
		f.HeaderLen != 22 || !bytes.Equal(f.Payload, []byte{0x45}) {
		t.Fatalf("parsed %+v", f)
	}
	v, _ := header.ParseVLAN(frame[14:])
	if v.PCP() != 5 || !v.DEI() || v.VID() != 100 || v.EtherType() != header.EtherTypeVLAN || len(v.Payload()) != 5 {
		t.Fatal("VLAN view")
	}
	vb := header.VLAN(make([]byte, 4))
	vb.SetTCI(want0.TCI())
	vb.SetEtherType(header.EtherTypeIPv6)
	if vb.VID() != 100 || vb.PCP() != 5 || !vb.DEI() || vb.EtherType() != header.EtherTypeIPv6 {
		t.Fatal("VLAN setters")
	}
	out := make([]byte, f.Len())
	if n, err := f.Build(out); err != nil || n != 22 || !bytes.Equal(out, frame[:22]) {
		t.Fatalf("build %x %v", out, err)
	}

	// Errors.
	if err := header.ParseFrame(frame[:16], &f); !errors.Is(err, header.ErrTruncated) {
		t.Fatalf("truncated tag: %v", err)
	}
	deep := append([]byte(nil), frame[:12]...)
	for range header.VLANMaxDepth + 1 {
		deep = append(deep, 0x81, 0x00, 0x00, 0x01)
	}
	deep = append(deep, 0x08, 0x00)
	if err := header.ParseFrame(deep, &f); !errors.Is(err, header.ErrBadField) {
		t.Fatalf("deep: %v", err)
	}
	bad := f
	bad.NumTags = 1
	bad.Tags[0] = header.VLANTag{TPID: header.EtherTypeIPv4}
	if _, err := bad.Build(make([]byte, 64)); err == nil {
		t.Fatal("bad TPID built")
	}
	bad.Tags[0] = header.VLANTag{TPID: header.EtherTypeVLAN, VID: 4096}
	if _, err := bad.Build(make([]byte, 64)); err == nil {
		t.Fatal("VID 4096 built")
	}
	bad.Tags[0].VID, bad.Type = 1, header.EtherTypeVLAN
	if _, err := bad.Build(make([]byte, 64)); err == nil {
		t.Fatal("VLAN inner type built")
	}
}

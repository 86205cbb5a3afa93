package header_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/usnet/usnet/header"
)

// The header from the worked checksum example every textbook uses: UDP
// from 192.168.0.1 to 192.168.0.199, total length 115, DF, TTL 64,
// checksum 0xb861.
var classicIPv4 = []byte{
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61,
	0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
}

func classicPacket(extra int) []byte {
	b := make([]byte, 115+extra)
	copy(b, classicIPv4)
	for i := 20; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

func TestIPv4Classic(t *testing.T) {
	pkt := classicPacket(5) // Ethernet padding after the datagram
	h, err := header.ParseIPv4(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 115 || h.Version() != 4 || h.HeaderLen() != 20 || h.TOS() != 0 || h.TotalLength() != 115 ||
		h.ID() != 0 || h.Flags() != header.IPv4FlagDF || h.FragmentOffset() != 0 || h.IsFragment() ||
		h.TTL() != 64 || h.Protocol() != header.IPProtoUDP || h.Checksum() != 0xb861 ||
		h.Src() != netip.MustParseAddr("192.168.0.1") || h.Dst() != netip.MustParseAddr("192.168.0.199") ||
		len(h.Options()) != 0 || len(h.Payload()) != 95 {
		t.Fatalf("fields %+v", h.Fields())
	}
	// Rebuilding from the fields gives the same header and checksum.
	out := make([]byte, 115)
	f := h.Fields()
	if _, err := header.BuildIPv4(out, &f); err != nil || !bytes.Equal(out[:20], classicIPv4) {
		t.Fatalf("build %x %v", out[:20], err)
	}
	// TotalLength 0 takes the buffer length.
	f.TotalLength = 0
	if h2, err := header.BuildIPv4(out, &f); err != nil || h2.TotalLength() != 115 || !bytes.Equal(out[:20], classicIPv4) {
		t.Fatalf("implicit length: %v", err)
	}
	if h.PseudoSum(95) != header.PseudoHeaderSum(h.Src(), h.Dst(), header.IPProtoUDP, 95) {
		t.Fatal("PseudoSum disagrees with PseudoHeaderSum")
	}
}

func TestIPv4Errors(t *testing.T) {
	mut := func(f func(b []byte), fix bool) []byte {
		b := classicPacket(0)
		f(b)
		if fix {
			header.IPv4(b).FillChecksum()
		}
		return b
	}
	for _, tt := range []struct {
		name string
		b    []byte
		err  error
	}{
		{"short", classicIPv4[:19], header.ErrTruncated},
		{"version 6", mut(func(b []byte) { b[0] = 0x65 }, true), header.ErrBadVersion},
		{"ihl 4", mut(func(b []byte) { b[0] = 0x44 }, false), header.ErrBadLength},
		{"ihl past end", mut(func(b []byte) { b[0] = 0x4f }, false)[:40], header.ErrTruncated},
		{"checksum", mut(func(b []byte) { b[8] = 63 }, false), header.ErrBadChecksum},
		{"tot_len > buffer", mut(func(b []byte) { b[3] = 0x74 }, true), header.ErrTruncated},
		{"tot_len < ihl", mut(func(b []byte) { b[3] = 19; b[2] = 0 }, true), header.ErrBadLength},
	} {
		if _, err := header.ParseIPv4(tt.b); !errors.Is(err, tt.err) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.err)
		}
	}
}

func TestIPv4DecTTL(t *testing.T) {
	h, _ := header.ParseIPv4(classicPacket(0))
	for ttl := 63; ttl >= 0; ttl-- {
		if got := h.DecTTL(); int(got) != ttl || !h.ValidChecksum() {
			t.Fatalf("ttl %d: got %d, checksum valid %v", ttl, got, h.ValidChecksum())
		}
		c := h.Checksum()
		h.FillChecksum()
		if h.Checksum() != c {
			t.Fatalf("ttl %d: incremental %#x, full %#x", ttl, c, h.Checksum())
		}
	}
}

func TestIPv4Fragment(t *testing.T) {
	b := make([]byte, 28)
	f := header.IPv4Fields{Flags: header.IPv4FlagMF, FragOffset: 1480, TTL: 64, Protocol: header.IPProtoUDP,
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2")}
	h, err := header.BuildIPv4(b, &f)
	if err != nil {
		t.Fatal(err)
	}
	if !h.IsFragment() || h.FragmentOffset() != 1480 || h.CheckFragment() != nil {
		t.Fatalf("fragment: %+v %v", h.Fields(), h.CheckFragment())
	}
	h.SetFlagsOffset(header.IPv4FlagMF, 0x1fff*8)
	if err := h.CheckFragment(); !errors.Is(err, header.ErrBadLength) {
		t.Fatalf("oversize: %v", err)
	}
	h.SetFlagsOffset(header.IPv4FlagMF, 8)
	h.SetTotalLength(27) // 7 bytes: rounds to nothing
	if err := header.IPv4(b[:27]).CheckFragment(); !errors.Is(err, header.ErrBadLength) {
		t.Fatalf("tiny MF: %v", err)
	}
	for _, bad := range []header.IPv4Fields{
		{FragOffset: 4, Src: f.Src, Dst: f.Dst},
		{FragOffset: 65536, Src: f.Src, Dst: f.Dst},
		{Flags: 8, Src: f.Src, Dst: f.Dst},
		{Src: netip.MustParseAddr("::1"), Dst: f.Dst},
		{Options: []byte{1, 1, 1}, Src: f.Src, Dst: f.Dst},
		{TotalLength: 10, Src: f.Src, Dst: f.Dst},
	} {
		if _, err := header.BuildIPv4(make([]byte, 64), &bad); err == nil {
			t.Errorf("built %+v", bad)
		}
	}
	if _, err := header.BuildIPv4(make([]byte, 19), &f); !errors.Is(err, header.ErrTruncated) {
		t.Fatal(err)
	}
}

// withOptions builds a datagram whose header carries opts (padded with EOL
// to a multiple of 4).
func withOptions(t *testing.T, opts []byte) header.IPv4 {
	t.Helper()
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	b := make([]byte, 20+len(opts)+8)
	f := header.IPv4Fields{TTL: 64, Protocol: header.IPProtoUDP, Options: opts,
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2")}
	if _, err := header.BuildIPv4(b, &f); err != nil {
		t.Fatal(err)
	}
	h, err := header.ParseIPv4(b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestIPv4Options(t *testing.T) {
	addr := []byte{0, 0, 0, 0}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tt := range []struct {
		name string
		opts []byte
		ptr  int // 0: no error
		want header.IPv4Options
	}{
		{"none", nil, 0, header.IPv4Options{}},
		{"nops", []byte{1, 1, 1, 1}, 0, header.IPv4Options{Len: 4}},
		{"eol then junk", []byte{0, 0xff, 0x07, 0x44}, 0, header.IPv4Options{Len: 4}},
		{"rr room", cat([]byte{7, 7, 4}, addr), 0, header.IPv4Options{Len: 8, RR: 20, RRNeedAddr: true}},
		{"rr full", cat([]byte{7, 7, 8}, addr), 0, header.IPv4Options{Len: 8, RR: 20}},
		{"rr ptr 3", cat([]byte{7, 7, 3}, addr), 22, header.IPv4Options{}},
		{"rr len 2", []byte{7, 2, 1, 1}, 21, header.IPv4Options{}},
		{"rr ptr misaligned", cat([]byte{7, 7, 5}, addr), 22, header.IPv4Options{}},
		{"rr twice", cat([]byte{7, 7, 4}, addr, []byte{7, 3, 4}), 27, header.IPv4Options{}},
		{"missing length", []byte{1, 1, 1, 0x44}, 23, header.IPv4Options{}},
		{"length 1", []byte{0x83, 1, 0, 0}, 20, header.IPv4Options{}},
		{"length past end", []byte{0x83, 9, 4, 0}, 20, header.IPv4Options{}},
		{"ts only", cat([]byte{0x44, 12, 5, 0}, addr, addr), 0, header.IPv4Options{Len: 12, TS: 20, TSNeedTime: true}},
		{"ts addr", cat([]byte{0x44, 12, 5, 1}, addr, addr), 0, header.IPv4Options{Len: 12, TS: 20, TSNeedTime: true, TSNeedAddr: true}},
		{"ts addr no room", cat([]byte{0x44, 8, 5, 1}, addr), 22, header.IPv4Options{}},
		{"ts prespec", cat([]byte{0x44, 12, 5, 3}, addr, addr), 0, header.IPv4Options{Len: 12, TS: 20, TSPrespec: true}},
		{"ts full", cat([]byte{0x44, 8, 9, 0xe0}, addr), 0, header.IPv4Options{Len: 8, TS: 20}},
		{"ts overflow 15", cat([]byte{0x44, 8, 9, 0xf0}, addr), 23, header.IPv4Options{}},
		{"ts prespec full 15", cat([]byte{0x44, 8, 9, 0xf3}, addr), 0, header.IPv4Options{Len: 8, TS: 20}},
		{"ts ptr 4", cat([]byte{0x44, 8, 4, 0}, addr), 22, header.IPv4Options{}},
		{"ts len 3", []byte{0x44, 3, 5, 0}, 21, header.IPv4Options{}},
		{"ts unknown flag", cat([]byte{0x44, 8, 5, 2}, addr), 0, header.IPv4Options{Len: 8, TS: 20}},
		{"ra", []byte{0x94, 4, 0, 0}, 0, header.IPv4Options{Len: 4, RouterAlert: 20}},
		{"ra nonzero", []byte{0x94, 4, 0, 1}, 0, header.IPv4Options{Len: 4}},
		{"ra short", []byte{0x94, 2, 1, 1}, 21, header.IPv4Options{}},
		{"lsrr", cat([]byte{0x83, 7, 4}, addr), 0, header.IPv4Options{Len: 8, SRR: 20}},
		{"ssrr", cat([]byte{0x89, 7, 4}, addr), 0, header.IPv4Options{Len: 8, SRR: 20, StrictRoute: true}},
		{"srr ptr 3", cat([]byte{0x89, 7, 3}, addr), 22, header.IPv4Options{}},
		{"srr len 2", []byte{0x83, 2, 1, 1}, 21, header.IPv4Options{}},
		{"two source routes", cat([]byte{0x83, 7, 4}, addr, []byte{0x89, 7, 4}, addr), 27, header.IPv4Options{}},
		{"unknown skipped", []byte{0x99, 3, 0xaa, 0}, 0, header.IPv4Options{Len: 4}},
		{"cipso twice", []byte{0x86, 2, 0x86, 2}, 22, header.IPv4Options{}},
	} {
		h := withOptions(t, tt.opts)
		var o header.IPv4Options
		ptr, err := h.ParseOptions(&o)
		if tt.ptr != 0 {
			if !errors.Is(err, header.ErrBadOption) || ptr != tt.ptr {
				t.Errorf("%s: ptr %d err %v, want ptr %d", tt.name, ptr, err, tt.ptr)
			}
			continue
		}
		if err != nil || o != tt.want {
			t.Errorf("%s: %+v err %v (ptr %d), want %+v", tt.name, o, err, ptr, tt.want)
		}
	}
}

func TestIPv4OptionIter(t *testing.T) {
	h := withOptions(t, header.AppendRouterAlert([]byte{1, 7, 7, 4, 0, 0, 0, 0, 0}))
	it := h.OptionIter()
	var types []uint8
	var offs []int
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		types = append(types, o.Type)
		offs = append(offs, o.Offset)
		if len(o.Data) == 0 || o.Data[0] != o.Type {
			t.Fatalf("option data %x", o.Data)
		}
	}
	if _, err := it.Err(); err != nil {
		t.Fatal(err)
	}
	// NOP, RR, EOL; the RA after EOL is padding.
	if !bytes.Equal(types, []byte{1, 7, 0}) || offs[1] != 21 || offs[2] != 28 {
		t.Fatalf("types %v offsets %v", types, offs)
	}
	if got := binary.BigEndian.Uint32(header.AppendRouterAlert(nil)); got != 0x94040000 {
		t.Fatalf("RA %#x", got)
	}
}

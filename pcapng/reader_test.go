package pcapng

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"
	"testing"
)

// readAll reads every packet, failing on any error but the final EOF.
func readAll(t testing.TB, b []byte) (*Reader, []Packet) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var ps []Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return r, ps
		}
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
}

func TestRoundTrip(t *testing.T) {
	var out bytes.Buffer
	writeSample(t, &out)
	r, ps := readAll(t, out.Bytes())
	if s := r.Section(); s != (Section{UserAppl: "usnet", Comment: "sample"}) {
		t.Errorf("section %+v", s)
	}
	wantIfcs := []Interface{
		{Name: "veth0", LinkType: LinkTypeEthernet},
		{Name: "tun0", Description: "raw", LinkType: LinkTypeRaw, SnapLen: 64},
	}
	if !slices.Equal(r.Interfaces(), wantIfcs) {
		t.Errorf("interfaces %+v", r.Interfaces())
	}
	want := []Packet{
		{Interface: 0, Timestamp: 1e18, Data: make([]byte, 60), OrigLen: 60, Flags: 2, Direction: Outbound},
		{Interface: 1, Timestamp: 1e18 + 1, Data: make([]byte, 64), OrigLen: 1500, Flags: 1, Direction: Inbound, Comment: "truncated"},
		{Interface: 0, Timestamp: 1e18 + 2, Data: []byte{1}, OrigLen: 1},
	}
	if !slices.EqualFunc(ps, want, packetEqual) {
		t.Errorf("packets\n got %+v\nwant %+v", ps, want)
	}
}

func packetEqual(a, b Packet) bool {
	return a.Interface == b.Interface && a.Timestamp == b.Timestamp && bytes.Equal(a.Data, b.Data) &&
		a.OrigLen == b.OrigLen && a.Flags == b.Flags && a.Direction == b.Direction && a.Comment == b.Comment
}

// order is a byte order that can also append.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// block encodes one raw block, for files the writer would not produce.
func block(o order, typ uint32, body ...[]byte) []byte {
	n := 12
	for _, p := range body {
		n += len(p)
	}
	b := o.AppendUint32(nil, typ)
	b = o.AppendUint32(b, uint32(n))
	for _, p := range body {
		b = append(b, p...)
	}
	return o.AppendUint32(b, uint32(n))
}

func opt(o order, code uint16, v []byte) []byte {
	b := o.AppendUint16(nil, code)
	b = o.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	return append(b, make([]byte, pad4(len(v))-len(v))...)
}

func shb(o order, opts ...[]byte) []byte {
	h := o.AppendUint32(nil, byteOrderMagic)
	h = o.AppendUint16(h, 1)
	h = o.AppendUint16(h, 0)
	h = o.AppendUint64(h, math.MaxUint64)
	return block(o, blockSHB, append([][]byte{h}, opts...)...)
}

func idb(o order, link uint16, opts ...[]byte) []byte {
	h := o.AppendUint16(nil, link)
	h = o.AppendUint16(h, 0)
	h = o.AppendUint32(h, 0)
	return block(o, blockIDB, append([][]byte{h}, opts...)...)
}

func epb(o order, id uint32, ts uint64, data []byte, opts ...[]byte) []byte {
	h := o.AppendUint32(nil, id)
	h = o.AppendUint32(h, uint32(ts>>32))
	h = o.AppendUint32(h, uint32(ts))
	h = o.AppendUint32(h, uint32(len(data)))
	h = o.AppendUint32(h, uint32(len(data)))
	h = append(h, data...)
	h = append(h, make([]byte, pad4(len(data))-len(data))...)
	return block(o, blockEPB, append([][]byte{h}, opts...)...)
}

// TestForeignFiles reads what other tools write: big-endian sections,
// the default microsecond resolution, binary resolutions, if_tsoffset,
// blocks we do not know, and a second section that resets interfaces.
func TestForeignFiles(t *testing.T) {
	be, le := binary.BigEndian, binary.LittleEndian
	var f []byte
	f = append(f, shb(be, opt(be, optSHBOS, []byte("Linux")), opt(be, optSHBHardware, []byte("x86")))...)
	f = append(f, idb(be, LinkTypeEthernet, opt(be, optIfName, []byte("eth0")))...)                                                      // microseconds
	f = append(f, idb(be, LinkTypeNull, opt(be, optIfTsresol, []byte{0x80 | 10}), opt(be, optIfTsoffset, be.AppendUint64(nil, 100)))...) // 1/1024 s
	f = append(f, block(be, 5, make([]byte, 8))...)                                                                                      // interface statistics: skipped
	f = append(f, epb(be, 0, 1_500_000, []byte{1, 2, 3}, opt(be, optEPBFlags, be.AppendUint32(nil, 0x1e1)))...)
	f = append(f, block(be, 0x0BADBEEF)...)
	f = append(f, epb(be, 1, 512, nil)...)
	f = append(f, shb(le)...)
	f = append(f, idb(le, LinkTypeRaw, opt(le, optIfTsresol, []byte{3}))...) // milliseconds
	f = append(f, epb(le, 0, 42, []byte{9}, opt(le, optComment, []byte("a")), opt(le, optComment, []byte("b")))...)
	r, ps := readAll(t, f)
	want := []Packet{
		{Interface: 0, Timestamp: 1_500_000_000, Data: []byte{1, 2, 3}, OrigLen: 3, Flags: 0x1e1, Direction: Inbound},
		{Interface: 1, Timestamp: 100e9 + 500_000_000, Data: []byte{}, OrigLen: 0},
		{Interface: 0, Timestamp: 42_000_000, Data: []byte{9}, OrigLen: 1, Comment: "a"},
	}
	if !slices.EqualFunc(ps, want, packetEqual) {
		t.Errorf("packets\n got %+v\nwant %+v", ps, want)
	}
	if got := r.Interfaces(); !slices.Equal(got, []Interface{{LinkType: LinkTypeRaw}}) {
		t.Errorf("second section's interfaces %+v", got)
	}
}

func TestClockConversions(t *testing.T) {
	cases := []struct {
		c    clock
		raw  uint64
		want int64
		ok   bool
	}{
		{clock{resol: 9}, 123, 123, true},
		{clock{resol: 0}, 2, 2e9, true},
		{clock{resol: 12}, 123456, 123, true},
		{clock{resol: 127}, math.MaxUint64, 0, true},
		{clock{resol: 0x80}, 3, 3e9, true},
		{clock{resol: 0x80 | 127}, math.MaxUint64, 0, true},
		{clock{resol: 0x80 | 30}, 1 << 30, 1e9, true},
		{clock{resol: 9, offset: -1}, 0, -1e9, true},
		{clock{resol: 9}, math.MaxUint64, 0, false},
		{clock{resol: 0}, math.MaxUint64/1_000_000_000 + 1, 0, false},
		{clock{resol: 0x80}, math.MaxUint64, 0, false},
		{clock{resol: 9, offset: math.MaxInt64}, 0, 0, false},
		{clock{resol: 9, offset: math.MaxInt64 / 1_000_000_000}, math.MaxInt64, 0, false},
	}
	for _, c := range cases {
		got, err := c.c.nanos(c.raw)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%+v.nanos(%d) = %d, %v; want %d ok=%v", c.c, c.raw, got, err, c.want, c.ok)
		}
	}
}

// TestRejectsMalformed feeds damaged files: each must give an error
// wrapping ErrFormat, never a panic or a silent success.
func TestRejectsMalformed(t *testing.T) {
	o := binary.LittleEndian
	good := append(shb(o), idb(o, 1)...)
	pkt := epb(o, 0, 1, []byte{1, 2, 3, 4, 5})
	mutate := func(b []byte, f func([]byte)) []byte { b = slices.Clone(b); f(b); return b }
	cases := map[string][]byte{
		"empty":            nil,
		"not a section":    idb(o, 1),
		"bad magic":        mutate(shb(o), func(b []byte) { b[8] = 0 }),
		"version 2":        mutate(shb(o), func(b []byte) { b[12] = 2 }),
		"short block":      mutate(shb(o), func(b []byte) { b[4] = 24 }),
		"odd length":       append(slices.Clone(good), mutate(pkt, func(b []byte) { b[4]++ })...),
		"huge length":      append(slices.Clone(good), mutate(pkt, func(b []byte) { b[7] = 0x7f })...),
		"trailer mismatch": append(slices.Clone(good), mutate(pkt, func(b []byte) { b[len(b)-4]++ })...),
		"truncated":        append(slices.Clone(good), pkt[:len(pkt)-1]...),
		"caplen overrun":   append(slices.Clone(good), mutate(pkt, func(b []byte) { b[20] = 200 })...),
		"no interface":     append(shb(o), pkt...),
		"option overrun":   append(slices.Clone(good), epb(o, 0, 1, nil, o.AppendUint32(nil, 0x00ff0001))...),
		"stray option":     append(slices.Clone(good), epb(o, 0, 1, nil, []byte{1, 0})...),
		"flags length":     append(slices.Clone(good), epb(o, 0, 1, nil, opt(o, optEPBFlags, []byte{1}))...),
		"tsresol length":   append(shb(o), idb(o, 1, opt(o, optIfTsresol, []byte{1, 2}))...),
		"tsoffset length":  append(shb(o), idb(o, 1, opt(o, optIfTsoffset, []byte{1, 2}))...),
		"idb short":        append(shb(o), block(o, blockIDB, []byte{1, 0, 0, 0})...),
		"epb short":        append(slices.Clone(good), block(o, blockEPB, make([]byte, 16))...),
		"ts overflow":      append(slices.Clone(good), epb(o, 0, math.MaxUint64/2, nil)...),
	}
	for name, f := range cases {
		r, err := NewReader(bytes.NewReader(f))
		for err == nil {
			_, err = r.Next()
		}
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTruncatedAnywhere cuts a good file at every length: the reader
// must end with io.EOF exactly at block boundaries and ErrFormat
// elsewhere.
func TestTruncatedAnywhere(t *testing.T) {
	var out bytes.Buffer
	writeSample(t, &out)
	full := out.Bytes()
	_, ps := readAll(t, full)
	for n := range len(full) {
		r, err := NewReader(bytes.NewReader(full[:n]))
		got := 0
		for err == nil {
			if _, err = r.Next(); err == nil {
				got++
			}
		}
		if err == io.EOF && got == len(ps) {
			t.Errorf("cut at %d of %d read as complete", n, len(full))
		}
		if err != io.EOF && !errors.Is(err, ErrFormat) {
			t.Errorf("cut at %d: %v", n, err)
		}
	}
}

// TestRejectedCallsLeaveNoTrace: a refused WritePacket must not leave a
// half block in the buffer.
func TestRejectedCallsLeaveNoTrace(t *testing.T) {
	var out bytes.Buffer
	w, _ := NewWriter(&out, Options{})
	id, _ := w.AddInterface(Interface{LinkType: LinkTypeEthernet, SnapLen: 4})
	must(t, w.WritePacket(id, 5, []byte{1}, 1, Inbound, ""))
	if w.WritePacket(id, 6, make([]byte, 5), 5, Inbound, "") == nil {
		t.Fatal("over snaplen accepted")
	}
	must(t, w.WritePacket(id, 7, []byte{2}, 1, Outbound, ""))
	must(t, w.Close())
	_, ps := readAll(t, out.Bytes())
	if len(ps) != 2 || ps[0].Timestamp != 5 || ps[1].Timestamp != 7 {
		t.Errorf("packets %+v", ps)
	}
}

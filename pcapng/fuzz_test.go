package pcapng

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

// FuzzReader: no input may panic the reader, every failure is ErrFormat
// (the input is in memory, so there are no I/O errors), and what it
// returns stays within what it has declared. Seeds are in
// testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	var out bytes.Buffer
	writeSample(f, &out)
	f.Add(out.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		for n := 0; err == nil; n++ {
			var p Packet
			p, err = r.Next()
			if err != nil {
				break
			}
			if p.Interface < 0 || p.Interface >= len(r.Interfaces()) {
				t.Fatalf("packet %d on interface %d of %d", n, p.Interface, len(r.Interfaces()))
			}
			if len(p.Data) > len(b) {
				t.Fatalf("packet %d has %d bytes from a %d-byte file", n, len(p.Data), len(b))
			}
		}
		if err != io.EOF && !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
	})
}

// FuzzRoundTrip: whatever the writer accepts, the reader gives back.
func FuzzRoundTrip(f *testing.F) {
	f.Add(int64(0), []byte{}, uint16(0), uint8(1), "", "veth0", uint32(0))
	f.Add(int64(1e18), []byte{1, 2, 3, 4, 5}, uint16(1500), uint8(2), "comment", "", uint32(4))
	f.Fuzz(func(t *testing.T, ts int64, data []byte, extra uint16, dir uint8, comment, name string, snaplen uint32) {
		var out bytes.Buffer
		w, err := NewWriter(&out, Options{UserAppl: "usnet"})
		if err != nil {
			t.Fatal(err)
		}
		ifc := Interface{Name: name, LinkType: LinkTypeEthernet, SnapLen: snaplen}
		id, err := w.AddInterface(ifc)
		if err != nil {
			if utf8.ValidString(name) {
				t.Fatalf("AddInterface(%q): %v", name, err)
			}
			return
		}
		origLen := len(data) + int(extra)
		if err := w.WritePacket(id, ts, data, origLen, Direction(dir), comment); err != nil {
			return
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, ps := readAll(t, out.Bytes())
		want := Packet{Timestamp: ts, Data: data, OrigLen: origLen, Flags: uint32(dir), Direction: Direction(dir), Comment: comment}
		if len(ps) != 1 || !packetEqual(ps[0], want) {
			t.Fatalf("read back %+v, wrote %+v", ps, want)
		}
		if got := r.Interfaces(); len(got) != 1 || got[0] != ifc {
			t.Fatalf("interfaces %+v, wrote %+v", got, ifc)
		}
	})
}

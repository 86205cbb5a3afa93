package pcapng

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// TestGoldenBytes pins the exact encoding of a tiny capture, assembled
// by hand from the pcapng draft's block layouts.
func TestGoldenBytes(t *testing.T) {
	var out bytes.Buffer
	w, err := NewWriter(&out, Options{UserAppl: "usnet"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := w.AddInterface(Interface{Name: "lo", Description: "d", LinkType: LinkTypeEthernet, SnapLen: 100})
	if err != nil || id != 0 {
		t.Fatal(id, err)
	}
	if err := w.WritePacket(0, 0x1_0000_0002, []byte{0xaa, 0xbb, 0xcc}, 5, Outbound, "hi"); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		// SHB: type, length 44, magic, version 1.0, section length -1
		"0a0d0d0a 2c000000 4d3c2b1a 0100 0000 ffffffffffffffff",
		"0400 0500 7573 6e65 74 000000", // shb_userappl "usnet" + pad
		"00000000 2c000000",             // end of options, length
		// IDB: type, length 48, Ethernet, reserved, snaplen 100
		"01000000 30000000 0100 0000 64000000",
		"0200 0200 6c6f 0000", // if_name "lo"
		"0300 0100 64 000000", // if_description "d"
		"0900 0100 09 000000", // if_tsresol 9
		"00000000 30000000",
		// EPB: type, length 56, interface 0, ts high 1 low 2, caplen 3, origlen 5
		"06000000 38000000 00000000 01000000 02000000 03000000 05000000",
		"aabbcc 00",
		"0100 0200 6869 0000", // opt_comment "hi"
		"0200 0400 02000000",  // epb_flags: outbound
		"00000000 38000000",
	}, "")
	want = strings.ReplaceAll(want, " ", "")
	if got := hex.EncodeToString(out.Bytes()); got != want {
		t.Errorf("encoding\n got %s\nwant %s", got, want)
	}
}

// writeSample makes the same calls every time; the output must not vary.
func writeSample(t testing.TB, out io.Writer) {
	w, err := NewWriter(out, Options{UserAppl: "usnet", Comment: "sample"})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := w.AddInterface(Interface{Name: "veth0", LinkType: LinkTypeEthernet})
	must(t, w.WritePacket(a, 1e18, make([]byte, 60), 60, Outbound, ""))
	b, _ := w.AddInterface(Interface{Name: "tun0", Description: "raw", LinkType: LinkTypeRaw, SnapLen: 64})
	must(t, w.WritePacket(b, 1e18+1, make([]byte, 64), 1500, Inbound, "truncated"))
	must(t, w.WritePacket(a, 1e18+2, []byte{1}, 1, DirUnknown, ""))
	must(t, w.Close())
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDeterministic(t *testing.T) {
	var x, y bytes.Buffer
	writeSample(t, &x)
	writeSample(t, &y)
	if !bytes.Equal(x.Bytes(), y.Bytes()) {
		t.Fatal("same calls gave different files")
	}
}

func TestBuffersUntilFlush(t *testing.T) {
	var out bytes.Buffer
	w, _ := NewWriter(&out, Options{})
	id, _ := w.AddInterface(Interface{LinkType: LinkTypeEthernet})
	must(t, w.WritePacket(id, 1, make([]byte, 100), 100, Inbound, ""))
	if out.Len() != 0 {
		t.Fatalf("%d bytes written before Flush", out.Len())
	}
	for out.Len() == 0 {
		must(t, w.WritePacket(id, 1, make([]byte, 1000), 1000, Inbound, ""))
	}
	if out.Len() < flushAt {
		t.Errorf("flushed only %d bytes", out.Len())
	}
	must(t, w.Close())
	if err := w.WritePacket(id, 1, nil, 0, Inbound, ""); err != ErrClosed {
		t.Errorf("write after Close: %v", err)
	}
	if _, err := w.AddInterface(Interface{}); err != ErrClosed {
		t.Errorf("AddInterface after Close: %v", err)
	}
	must(t, w.Close())
}

func TestRejectsBadArguments(t *testing.T) {
	w, _ := NewWriter(io.Discard, Options{})
	id, _ := w.AddInterface(Interface{LinkType: LinkTypeEthernet, SnapLen: 10})
	long := strings.Repeat("x", maxOptLen+1)
	cases := []struct {
		name string
		err  error
	}{
		{"no such interface", w.WritePacket(1, 0, nil, 0, Inbound, "")},
		{"negative interface", w.WritePacket(-1, 0, nil, 0, Inbound, "")},
		{"before epoch", w.WritePacket(id, -1, nil, 0, Inbound, "")},
		{"over snaplen", w.WritePacket(id, 0, make([]byte, 11), 11, Inbound, "")},
		{"origLen short", w.WritePacket(id, 0, make([]byte, 5), 4, Inbound, "")},
		{"direction", w.WritePacket(id, 0, nil, 0, 3, "")},
		{"comment not UTF-8", w.WritePacket(id, 0, nil, 0, Inbound, "\xff")},
		{"comment too long", w.WritePacket(id, 0, nil, 0, Inbound, long)},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if _, err := w.AddInterface(Interface{Name: long}); !errors.Is(err, ErrFormat) {
		t.Errorf("long name: %v", err)
	}
	if _, err := NewWriter(io.Discard, Options{UserAppl: "\xc3"}); !errors.Is(err, ErrFormat) {
		t.Errorf("bad userappl: %v", err)
	}
	// Rejected calls leave nothing behind: the file still reads cleanly.
	must(t, w.WritePacket(id, 0, make([]byte, 10), 10, Inbound, ""))
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n > 0 {
		return 0, errors.New("disk full")
	}
	f.n++
	return len(p) / 2, nil
}

func TestWriteErrorsStick(t *testing.T) {
	fw := &failWriter{}
	w, _ := NewWriter(fw, Options{})
	if err := w.Flush(); err != io.ErrShortWrite {
		t.Fatalf("short write: %v", err)
	}
	if _, err := w.AddInterface(Interface{}); err != io.ErrShortWrite {
		t.Errorf("after short write: %v", err)
	}
	if err := w.Close(); err != io.ErrShortWrite {
		t.Errorf("Close: %v", err)
	}
}

func TestWritePacketDoesNotAllocate(t *testing.T) {
	w, _ := NewWriter(io.Discard, Options{UserAppl: "usnet"})
	id, _ := w.AddInterface(Interface{Name: "veth0", LinkType: LinkTypeEthernet})
	data := make([]byte, 1514)
	ts := int64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		ts++
		if err := w.WritePacket(id, ts, data, len(data), Outbound, "GSO super-packet"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet", allocs)
	}
}

func BenchmarkWritePacket(b *testing.B) {
	for _, c := range []struct {
		size    int
		comment string
	}{{64, ""}, {1514, ""}, {1514, "GSO super-packet"}} {
		name := strconv.Itoa(c.size)
		if c.comment != "" {
			name += "-comment"
		}
		b.Run(name, func(b *testing.B) {
			size := c.size
			w, _ := NewWriter(io.Discard, Options{UserAppl: "usnet"})
			id, _ := w.AddInterface(Interface{Name: "veth0", LinkType: LinkTypeEthernet})
			data := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var ts int64
			for b.Loop() {
				ts++
				if err := w.WritePacket(id, ts, data, size, Outbound, c.comment); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

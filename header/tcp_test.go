package header_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/usnet/usnet/header"
)

// Linux's SYN options with timestamps: mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7.
var linuxSYNOpts = []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}

func TestTCPSyn(t *testing.T) {
	f := header.TCPFields{SrcPort: 40000, DstPort: 80, Seq: 0x01020304, Flags: header.TCPFlagSYN, Window: 64240,
		Options: header.TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamps: true, TSVal: 1,
			HasWScale: true, WScale: 7}}
	if f.HeaderLen() != 40 {
		t.Fatalf("HeaderLen %d", f.HeaderLen())
	}
	b := make([]byte, 40)
	seg, err := header.BuildTCP(b, &f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seg.Options(), linuxSYNOpts) {
		t.Fatalf("options % x", seg.Options())
	}
	seg.FillChecksum(src4, dst4)
	if want := refTransportChecksum(src4, dst4, header.IPProtoTCP, append(append([]byte(nil), b[:16]...), append([]byte{0, 0}, b[18:]...)...)); seg.Checksum() != want {
		t.Fatalf("checksum %#x want %#x", seg.Checksum(), want)
	}
	p, err := header.ParseTCP(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.SrcPort() != 40000 || p.DstPort() != 80 || p.Seq() != 0x01020304 || p.Ack() != 0 || p.HeaderLen() != 40 ||
		p.Flags() != header.TCPFlagSYN || p.Window() != 64240 || p.Urgent() != 0 || len(p.Payload()) != 0 || p.Reserved() != 0 {
		t.Fatal("fields")
	}
	if err := p.VerifyChecksum(src4, dst4); err != nil {
		t.Fatal(err)
	}
	var o header.TCPOptions
	if err := p.ParseOptions(&o); err != nil || o != f.Options {
		t.Fatalf("options %+v err %v", o, err)
	}
	b[25] ^= 0x10
	if err := p.VerifyChecksum(src4, dst4); !errors.Is(err, header.ErrBadChecksum) {
		t.Fatal(err)
	}
}

func TestTCPErrors(t *testing.T) {
	h := make([]byte, 24)
	h[12] = 5 << 4
	if _, err := header.ParseTCP(h[:19]); !errors.Is(err, header.ErrTruncated) {
		t.Fatal(err)
	}
	h[12] = 4 << 4
	if _, err := header.ParseTCP(h); !errors.Is(err, header.ErrBadLength) {
		t.Fatal(err)
	}
	h[12] = 7 << 4
	if _, err := header.ParseTCP(h); !errors.Is(err, header.ErrTruncated) {
		t.Fatal(err)
	}
	h[12] = 6<<4 | 1
	h[13] = 0xff
	p, err := header.ParseTCP(h)
	if err != nil || p.Flags() != 0x1ff || p.Flags().String() != "FSRPUEWA." {
		t.Fatalf("flags %v %v", p.Flags(), err)
	}
	p.SetFlags(header.TCPFlagSYN | header.TCPFlagACK)
	if p.Flags().String() != "S." || p.HeaderLen() != 24 {
		t.Fatal(p.Flags().String())
	}
}

func TestTCPOptions(t *testing.T) {
	ts := []byte{1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6}
	for _, tt := range []struct {
		name string
		b    []byte
		err  error
		want header.TCPOptions
	}{
		{"empty", nil, nil, header.TCPOptions{}},
		{"linux syn no ts", []byte{2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7}, nil,
			header.TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasWScale: true, WScale: 7}},
		{"timestamps", ts, nil, header.TCPOptions{HasTimestamps: true, TSVal: 5, TSEcr: 6}},
		{"eol stops", []byte{0, 2, 4, 5, 0xb4}, nil, header.TCPOptions{}},
		{"sack 2 blocks", []byte{1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4}, nil,
			header.TCPOptions{NumSACK: 2, SACK: [4]header.SACKBlock{{1, 2}, {3, 4}}}},
		{"sack bad size ignored", []byte{5, 9, 0, 0, 0, 1, 0, 0, 0}, nil, header.TCPOptions{}},
		{"mss bad size ignored", []byte{2, 3, 5, 1}, nil, header.TCPOptions{}},
		{"wscale raw", []byte{3, 3, 20, 0}, nil, header.TCPOptions{HasWScale: true, WScale: 20}},
		{"unknown skipped", []byte{34, 2, 19, 3, 0, 2, 4, 0x10, 0}, nil, header.TCPOptions{HasMSS: true, MSS: 0x1000}},
		{"missing length", []byte{1, 1, 1, 2}, header.ErrBadOption, header.TCPOptions{}},
		{"length 1", []byte{2, 4, 5, 0xb4, 30, 1, 0, 0}, header.ErrBadOption, header.TCPOptions{HasMSS: true, MSS: 1460}},
		{"length 0", []byte{30, 0, 0, 0}, header.ErrBadOption, header.TCPOptions{}},
		{"past end", []byte{8, 10, 0, 0, 0, 5}, header.ErrBadOption, header.TCPOptions{}},
	} {
		var o header.TCPOptions
		o.MSS = 99 // must be reset
		err := header.ParseTCPOptions(tt.b, &o)
		if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) || o != tt.want {
			t.Errorf("%s: %+v err %v", tt.name, o, err)
		}
	}
}

func TestTCPOptionsEncode(t *testing.T) {
	blocks := [4]header.SACKBlock{{1, 2}, {3, 4}, {5, 6}, {7, 8}}
	for _, tt := range []struct {
		name string
		o    header.TCPOptions
		want []byte
		err  bool
	}{
		{"none", header.TCPOptions{}, []byte{}, false},
		{"sackperm alone", header.TCPOptions{SACKPermitted: true}, []byte{1, 1, 4, 2}, false},
		{"ts", header.TCPOptions{HasTimestamps: true, TSVal: 5, TSEcr: 6}, []byte{1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6}, false},
		{"ts+3 sack", header.TCPOptions{HasTimestamps: true, NumSACK: 3, SACK: blocks}, nil, false},
		{"ts+4 sack", header.TCPOptions{HasTimestamps: true, NumSACK: 4, SACK: blocks}, nil, true},
		{"4 sack", header.TCPOptions{NumSACK: 4, SACK: blocks}, nil, false},
		{"5 sack", header.TCPOptions{NumSACK: 5}, nil, true},
		{"neg sack", header.TCPOptions{NumSACK: -1}, nil, true},
	} {
		var b [40]byte
		n, err := tt.o.Encode(b[:])
		if tt.err {
			if !errors.Is(err, header.ErrBadOption) {
				t.Errorf("%s: err %v", tt.name, err)
			}
			continue
		}
		if err != nil || n%4 != 0 || n != tt.o.EncodedLen() || (tt.want != nil && !bytes.Equal(b[:n], tt.want)) {
			t.Errorf("%s: % x err %v", tt.name, b[:n], err)
			continue
		}
		var back header.TCPOptions
		want := tt.o
		for i := want.NumSACK; i < len(want.SACK); i++ {
			want.SACK[i] = header.SACKBlock{}
		}
		if err := header.ParseTCPOptions(b[:n], &back); err != nil || back != want {
			t.Errorf("%s: round trip %+v err %v", tt.name, back, err)
		}
	}
	o := header.TCPOptions{HasMSS: true}
	if _, err := o.Encode(make([]byte, 3)); !errors.Is(err, header.ErrBadOption) {
		t.Fatal("short buffer")
	}
}

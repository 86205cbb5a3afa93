package netlink

import (
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

func TestAttributeRoundTrip(t *testing.T) {
	e := NewAttributeEncoder(nil)
	e.Uint8(1, 0xab)
	e.Uint16(2, 0x1234)
	e.Uint32(3, 0xdeadbeef)
	e.Uint64(4, 1<<40)
	e.Int32(5, -7)
	e.String(6, "veth0")
	e.PutBytes(7, []byte{1, 2, 3})
	e.Addr(8, netip.MustParseAddr("192.0.2.1"))
	e.Addr(9, netip.MustParseAddr("2001:db8::1"))
	e.Flag(10)
	n := e.BeginNest(11 | FlagNested)
	e.Uint32(1, 42)
	inner := e.BeginNest(2)
	e.String(1, "deep")
	e.EndNest(inner)
	e.EndNest(n)
	e.Uint16BE(12, 0x0050)
	if e.Err() != nil || e.Len()%4 != 0 {
		t.Fatalf("err %v len %d", e.Err(), e.Len())
	}
	d := NewAttributeDecoder(e.Bytes())
	seen := 0
	for d.Next() {
		seen++
		var err error
		switch d.Type() {
		case 1:
			v, _ := d.Uint8()
			if v != 0xab {
				t.Error("u8", v)
			}
		case 2:
			v, _ := d.Uint16()
			if v != 0x1234 {
				t.Error("u16", v)
			}
		case 3:
			v, _ := d.Uint32()
			if v != 0xdeadbeef {
				t.Error("u32", v)
			}
		case 4:
			v, _ := d.Uint64()
			if v != 1<<40 {
				t.Error("u64", v)
			}
		case 5:
			v, _ := d.Int32()
			if v != -7 {
				t.Error("s32", v)
			}
		case 6:
			if d.String() != "veth0" || len(d.Bytes()) != 6 {
				t.Errorf("string %q %d", d.String(), len(d.Bytes()))
			}
		case 7:
			if string(d.Bytes()) != "\x01\x02\x03" {
				t.Error("bytes")
			}
		case 8, 9:
			a, err := d.Addr()
			if err != nil || (a.String() != "192.0.2.1" && a.String() != "2001:db8::1") {
				t.Error("addr", a, err)
			}
		case 10:
			if len(d.Bytes()) != 0 {
				t.Error("flag")
			}
		case 11:
			if !d.NestedFlag() {
				t.Error("NLA_F_NESTED not seen")
			}
			var nd AttributeDecoder
			nd, err = d.Nested()
			if err != nil {
				t.Fatal(err)
			}
			nd.Next()
			if v, _ := nd.Uint32(); v != 42 {
				t.Error("nested u32", v)
			}
			nd.Next()
			dd, _ := nd.Nested()
			dd.Next()
			if dd.String() != "deep" || dd.Depth() != 2 {
				t.Error("deep", dd.String(), dd.Depth())
			}
			// Offsets stay relative to the outermost buffer.
			if got := e.Bytes()[dd.Offset()+4 : dd.Offset()+8]; string(got) != "deep" {
				t.Errorf("nested offset points at %q", got)
			}
			if nd.Next() || nd.Err() != nil {
				t.Error("nested run should end cleanly")
			}
		case 12:
			if b := d.Bytes(); b[0] != 0 || b[1] != 0x50 {
				t.Error("be16", b)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if d.Err() != nil || seen != 12 {
		t.Fatalf("seen %d err %v", seen, d.Err())
	}
}

func TestAttributeTypeMask(t *testing.T) {
	e := NewAttributeEncoder(nil)
	e.Uint32(5|unix.NLA_F_NET_BYTEORDER, 1)
	d := NewAttributeDecoder(e.Bytes())
	d.Next()
	if d.Type() != 5 || !d.NetByteOrder() || d.RawType() != 5|unix.NLA_F_NET_BYTEORDER {
		t.Fatalf("type %d raw %#x", d.Type(), d.RawType())
	}
}

func TestAttributeBadLengths(t *testing.T) {
	for _, b := range [][]byte{
		{3, 0, 1, 0},             // nla_len < 4
		{9, 0, 1, 0, 1, 2, 3, 4}, // past the end
	} {
		d := NewAttributeDecoder(b)
		if d.Next() || !errors.Is(d.Err(), ErrAttrLen) {
			t.Errorf("%x: err %v", b, d.Err())
		}
	}
	// Trailing bytes shorter than an attribute header are ignored.
	d := NewAttributeDecoder([]byte{8, 0, 1, 0, 1, 0, 0, 0, 0xff, 0xff})
	n := 0
	for d.Next() {
		n++
	}
	if n != 1 || d.Err() != nil {
		t.Fatalf("n %d err %v", n, d.Err())
	}
}

func TestAttributeWrongSize(t *testing.T) {
	e := NewAttributeEncoder(nil)
	e.PutBytes(1, []byte{1, 2})
	d := NewAttributeDecoder(e.Bytes())
	d.Next()
	if _, err := d.Uint32(); !errors.Is(err, ErrAttrSize) {
		t.Error("u32 of 2 bytes:", err)
	}
	if _, err := d.Uint8(); !errors.Is(err, ErrAttrSize) {
		t.Error("u8 of 2 bytes:", err)
	}
	if _, err := d.Uint64(); !errors.Is(err, ErrAttrSize) {
		t.Error("u64 of 2 bytes:", err)
	}
	if _, err := d.Addr(); !errors.Is(err, ErrAttrSize) {
		t.Error("addr of 2 bytes:", err)
	}
	if _, err := NulString([]byte("abc")); !errors.Is(err, ErrNoNUL) {
		t.Error("NulString without NUL:", err)
	}
	if s, err := NulString([]byte("ab\x00c")); s != "ab" || err != nil {
		t.Error("NulString:", s, err)
	}
	if String([]byte("ab")) != "ab" {
		t.Error("String without NUL")
	}
}

// nest builds depth levels of nested attributes.
func nest(depth int) []byte {
	b := []byte{4, 0, 1, 0}
	for range depth {
		h := []byte{0, 0, 1 | 0x80, 0x80}
		h[0], h[1] = byte((len(b)+4)&0xff), byte((len(b)+4)>>8)
		b = append(h, b...)
	}
	return b
}

func walk(d AttributeDecoder) error {
	for d.Next() {
		if d.NestedFlag() {
			nd, err := d.Nested()
			if err != nil {
				return err
			}
			if err := walk(nd); err != nil {
				return err
			}
		}
	}
	return d.Err()
}

func TestNestDepthLimit(t *testing.T) {
	if err := walk(NewAttributeDecoder(nest(MaxNestDepth))); err != nil {
		t.Fatalf("depth %d: %v", MaxNestDepth, err)
	}
	if err := walk(NewAttributeDecoder(nest(MaxNestDepth + 1))); !errors.Is(err, ErrNestDepth) {
		t.Fatalf("depth %d: %v", MaxNestDepth+1, err)
	}
}

func TestEncoderTooLong(t *testing.T) {
	e := NewAttributeEncoder(nil)
	e.PutBytes(1, make([]byte, 70000))
	if !errors.Is(e.Err(), ErrAttrTooLong) {
		t.Fatal(e.Err())
	}
	e.Reset(nil)
	n := e.BeginNest(1)
	e.PutBytes(2, make([]byte, 40000))
	e.PutBytes(2, make([]byte, 40000))
	e.EndNest(n)
	if !errors.Is(e.Err(), ErrAttrTooLong) {
		t.Fatal("nest:", e.Err())
	}
}

func TestEncoderNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 4096)
	e := NewAttributeEncoder(buf)
	a := netip.MustParseAddr("192.0.2.1")
	n := testing.AllocsPerRun(100, func() {
		e.Reset(buf)
		m := e.BeginMessage(Header{Type: unix.RTM_NEWADDR})
		e.Append(make([]byte, 8))
		e.Addr(unix.IFA_ADDRESS, a)
		e.String(unix.IFA_LABEL, "veth0")
		c := e.BeginNest(unix.IFA_CACHEINFO)
		e.Uint32(1, 2)
		e.EndNest(c)
		e.EndMessage(m)
	})
	if n != 0 {
		t.Fatalf("encoder allocates %v per message", n)
	}
	d := NewAttributeDecoder(e.Bytes()[HeaderLen+8:])
	n = testing.AllocsPerRun(100, func() {
		d2 := d
		for d2.Next() {
			_, _ = d2.Uint32()
		}
	})
	if n != 0 {
		t.Fatalf("decoder allocates %v", n)
	}
}

func TestNestedBeforeNext(t *testing.T) {
	for _, b := range [][]byte{nil, {1}, {8, 0, 1, 0, 0, 0, 0, 0}} {
		d := NewAttributeDecoder(b)
		nd, err := d.Nested()
		if err != nil || nd.Next() {
			t.Fatalf("%x: %v", b, err)
		}
	}
}

package header_test

import (
	"bytes"
	"testing"

	"github.com/usnet/usnet/header"
)

// The fuzz targets assert that no parser panics, that accessors on a
// parsed view do not panic, and that build(parse(x)) reproduces x where
// the encoding is canonical.

func FuzzChecksum(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, uint8(1))
	f.Add(bytes.Repeat([]byte{0xff}, 67), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, off uint8) {
		if int(off) > len(b) {
			off = 0
		}
		b = b[off:]
		got, want := header.Sum(b, 0), refSum(b)
		if got != want && !(got == 0xffff && want == 0) && !(got == 0 && want == 0xffff) {
			t.Fatalf("Sum %#x ref %#x", got, want)
		}
	})
}

func FuzzEthernet(f *testing.F) {
	f.Add(append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06}, arpRequest...))
	f.Add([]byte{1, 0, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xa8, 0xb0, 0x64, 0x81, 0x00, 0x0f, 0xff, 0x08, 0x00, 0x45})
	f.Add([]byte("02:ab:cd:00:11:ff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := header.ParseMAC(string(b)); err == nil {
			if m2, err := header.ParseMAC(m.String()); err != nil || m2 != m {
				t.Fatalf("MAC round trip %v %v", m2, err)
			}
		}
		if e, err := header.ParseEthernet(b); err == nil {
			_ = e.Fields()
			_ = e.Payload()
			_ = e.EtherType().String()
			_ = e.Dst().String()
		}
		var fr header.Frame
		if err := header.ParseFrame(b, &fr); err != nil {
			return
		}
		if fr.HeaderLen+len(fr.Payload) != len(b) {
			t.Fatal("payload length")
		}
		out := make([]byte, fr.Len())
		n, err := fr.Build(out)
		if err != nil || n != fr.HeaderLen || !bytes.Equal(out, b[:n]) {
			t.Fatalf("rebuild % x from % x: %v", out, b[:fr.HeaderLen], err)
		}
	})
}

func FuzzARP(f *testing.F) {
	f.Add(arpRequest)
	f.Add(arpRequest[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := header.ParseARP(b)
		if err != nil {
			return
		}
		fl := a.Fields()
		out := make([]byte, header.ARPLen)
		if _, err := header.BuildARP(out, &fl); err != nil || !bytes.Equal(out, a) {
			t.Fatalf("rebuild % x from % x: %v", out, []byte(a), err)
		}
	})
}

// checkIPv4 exercises every accessor of a view that passed a parser.
func checkIPv4(h header.IPv4) {
	_ = h.Fields()
	_, _, _, _ = h.Payload(), h.DSCP(), h.ECN(), h.IsFragment()
	_ = h.CheckFragment()
	_ = h.ValidChecksum()
	_ = h.PseudoSum(len(h.Payload()))
	var o header.IPv4Options
	_, _ = h.ParseOptions(&o)
	it := h.OptionIter()
	for _, ok := it.Next(); ok; _, ok = it.Next() {
	}
}

func FuzzIPv4(f *testing.F) {
	f.Add(classicPacket(0))
	f.Add(classicPacket(3))
	f.Add([]byte{0x46, 0, 0, 24, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x94, 4, 0, 0})
	f.Add([]byte{0x47, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x44, 8, 9, 0xf0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if q, err := header.ParseIPv4Quoted(b); err == nil {
			checkIPv4(q)
		}
		h, err := header.ParseIPv4(b)
		if err != nil {
			return
		}
		checkIPv4(h)
		fl := h.Fields()
		out := make([]byte, len(h))
		copy(out[h.HeaderLen():], h.Payload())
		h2, err := header.BuildIPv4(out, &fl)
		if err != nil {
			t.Fatalf("rebuild: %v", err)
		}
		// The checksum may legitimately differ between 0x0000 and 0xffff.
		if !bytes.Equal(out[:10], h[:10]) || !bytes.Equal(out[12:], h[12:]) {
			t.Fatalf("rebuild % x from % x", out, []byte(h))
		}
		if _, err := header.ParseIPv4(h2); err != nil {
			t.Fatalf("rebuilt header does not parse: %v", err)
		}
		h2.DecTTL()
		if !h2.ValidChecksum() {
			t.Fatal("DecTTL broke the checksum")
		}
	})
}

func FuzzICMPv4(f *testing.F) {
	echo := []byte{8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd'}
	header.ICMPv4(echo).FillChecksum()
	f.Add(echo)
	frag := append([]byte{3, 4, 0, 0, 0, 0, 0x05, 0x78}, classicPacket(0)[:28]...)
	header.ICMPv4(frag).FillChecksum()
	f.Add(frag)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := header.ParseICMPv4(b)
		if err != nil {
			return
		}
		_, _, _, _ = m.ID(), m.Seq(), m.MTU(), m.Pointer()
		_, _ = m.Gateway(), m.Payload()
		if ip, l4, err := m.Original(); err == nil {
			checkIPv4(ip)
			if len(l4) < 8 {
				t.Fatal("short transport quote")
			}
		}
		out := bytes.Clone(b)
		m2, err := header.BuildICMPv4(out, m.Fields())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := header.ParseICMPv4(m2); err != nil || !bytes.Equal(out[:2], b[:2]) || !bytes.Equal(out[4:], b[4:]) {
			t.Fatalf("rebuild: %v", err)
		}
	})
}

func FuzzUDP(f *testing.F) {
	f.Add([]byte{0x14, 0xe9, 0, 53, 0, 13, 0, 0, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{0, 1, 0, 2, 0, 7, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := header.ParseUDP(b)
		if err != nil {
			return
		}
		_ = u.VerifyChecksum(src4, dst4)
		out := bytes.Clone(u)
		u2, err := header.BuildUDP(out, header.UDPFields{SrcPort: u.SrcPort(), DstPort: u.DstPort()})
		if err != nil || u2.Length() != u.Length() || !bytes.Equal(u2.Payload(), u.Payload()) {
			t.Fatalf("rebuild: %v", err)
		}
		u2.FillChecksum(src4, dst4)
		if err := u2.VerifyChecksum(src4, dst4); err != nil || u2.Checksum() == 0 {
			t.Fatalf("filled checksum does not verify: %v", err)
		}
	})
}

func FuzzTCP(f *testing.F) {
	syn := make([]byte, 40)
	fl := header.TCPFields{SrcPort: 40000, DstPort: 80, Seq: 7, Flags: header.TCPFlagSYN, Window: 64240}
	copy(syn[20:], linuxSYNOpts)
	header.BuildTCP(syn[:20], &fl)
	syn[12] = 10 << 4
	f.Add(syn)
	f.Add(append(syn[:20:20], 'd', 'a', 't', 'a'))
	f.Fuzz(func(t *testing.T, b []byte) {
		seg, err := header.ParseTCP(b)
		if err != nil {
			return
		}
		_, _, _ = seg.Reserved(), seg.Flags().String(), seg.Payload()
		_ = seg.VerifyChecksum(src4, dst4)
		var o header.TCPOptions
		if seg.ParseOptions(&o) != nil {
			return
		}
		fl := header.TCPFields{SrcPort: seg.SrcPort(), DstPort: seg.DstPort(), Seq: seg.Seq(), Ack: seg.Ack(),
			Flags: seg.Flags(), Window: seg.Window(), Urgent: seg.Urgent(), Options: o}
		out := make([]byte, fl.HeaderLen()+len(seg.Payload()))
		if _, err := o.Encode(make([]byte, header.TCPMaxOptLen)); err != nil {
			return // e.g. timestamps with four SACK blocks: valid to receive, too long to send
		}
		seg2, err := header.BuildTCP(out, &fl)
		if err != nil {
			t.Fatalf("rebuild: %v", err)
		}
		copy(seg2[seg2.HeaderLen():], seg.Payload())
		seg2.FillChecksum(src4, dst4)
		p, err := header.ParseTCP(out)
		if err != nil {
			t.Fatal(err)
		}
		var o2 header.TCPOptions
		if err := p.ParseOptions(&o2); err != nil || o2 != o || p.Flags() != seg.Flags() || p.Seq() != seg.Seq() ||
			p.Ack() != seg.Ack() || p.Window() != seg.Window() || p.Urgent() != seg.Urgent() ||
			!bytes.Equal(p.Payload(), seg.Payload()) || p.VerifyChecksum(src4, dst4) != nil {
			t.Fatalf("round trip: %+v vs %+v (%v)", o2, o, err)
		}
	})
}

func FuzzTCPOptions(f *testing.F) {
	f.Add(linuxSYNOpts)
	f.Add([]byte{1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4})
	f.Add([]byte{30, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var o header.TCPOptions
		if header.ParseTCPOptions(b, &o) != nil {
			return
		}
		var buf [header.TCPMaxOptLen]byte
		n, err := o.Encode(buf[:])
		if err != nil {
			return
		}
		var o2 header.TCPOptions
		if err := header.ParseTCPOptions(buf[:n], &o2); err != nil || o2 != o {
			t.Fatalf("round trip %+v -> % x -> %+v (%v)", o, buf[:n], o2, err)
		}
	})
}

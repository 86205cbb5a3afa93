package tap

import (
	"testing"

	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/skb"
)

func TestVnetHdrRoundTrip(t *testing.T) {
	for _, m := range []framedio.Meta{
		{},
		{Flags: framedio.MetaNeedsCsum, CsumStart: 34, CsumOffset: 6},
		{Flags: framedio.MetaNeedsCsum, GSOType: skb.GSOTCPv4, GSOSize: 1448, HdrLen: 66, CsumStart: 34, CsumOffset: 16},
		{Flags: framedio.MetaNeedsCsum, GSOType: skb.GSOTCPv6, GSOSize: 1428, HdrLen: 86, CsumStart: 54, CsumOffset: 16},
		{Flags: framedio.MetaNeedsCsum, GSOType: skb.GSOUDP, GSOSize: 1400, HdrLen: 42, CsumStart: 34, CsumOffset: 6},
	} {
		var h [vnetHdrLen]byte
		putVnetHdr(h[:], &m)
		got, ok := parseVnetHdr(h[:])
		if !ok || got != m {
			t.Errorf("%+v -> % x -> %+v %v", m, h, got, ok)
		}
	}
}

func TestVnetHdrRejects(t *testing.T) {
	h := []byte{0, vnetGSOUDP, 0, 0, 0, 0, 0, 0, 0, 0} // UFO was never negotiated
	if _, ok := parseVnetHdr(h); ok {
		t.Fatal("UFO accepted")
	}
	h = []byte{framedio.MetaDataValid | 0x40, vnetGSOTCPv4 | vnetGSOECN, 0, 0, 0xa8, 0x05, 0, 0, 0, 0}
	m, ok := parseVnetHdr(h)
	if !ok || m.Flags != framedio.MetaDataValid || m.GSOType != skb.GSOTCPv4 || m.GSOSize != 1448 {
		t.Fatalf("%+v %v", m, ok)
	}
}

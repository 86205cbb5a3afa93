package header_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/usnet/usnet/header"
)

// A who-has 10.0.0.2 tell 10.0.0.1 request as on the wire, padded as an
// Ethernet minimum frame would be.
var arpRequest = []byte{
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
}

func TestARP(t *testing.T) {
	a, err := header.ParseARP(arpRequest)
	if err != nil {
		t.Fatal(err)
	}
	want := header.ARPFields{
		Op:        header.ARPRequest,
		SenderMAC: header.MAC{2, 0, 0, 0, 0, 1},
		SenderIP:  netip.MustParseAddr("10.0.0.1"),
		TargetIP:  netip.MustParseAddr("10.0.0.2"),
	}
	if got := a.Fields(); got != want || len(a) != header.ARPLen {
		t.Fatalf("got %+v", got)
	}
	out := make([]byte, header.ARPLen)
	if _, err := header.BuildARP(out, &want); err != nil || !bytes.Equal(out, arpRequest[:28]) {
		t.Fatalf("build %x %v", out, err)
	}

	mut := func(i int, v byte) []byte {
		b := append([]byte(nil), arpRequest...)
		b[i] = v
		return b
	}
	for _, tt := range []struct {
		name string
		b    []byte
		err  error
	}{
		{"short", arpRequest[:27], header.ErrTruncated},
		{"htype", mut(1, 6), header.ErrBadField},
		{"ptype", mut(2, 0x86), header.ErrBadField},
		{"hlen", mut(4, 8), header.ErrBadLength},
		{"plen", mut(5, 16), header.ErrBadLength},
		{"op rarp", mut(7, 3), header.ErrBadField},
	} {
		if _, err := header.ParseARP(tt.b); !errors.Is(err, tt.err) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.err)
		}
	}

	bad := want
	bad.TargetIP = netip.MustParseAddr("2001:db8::1")
	if _, err := header.BuildARP(out, &bad); !errors.Is(err, header.ErrBadField) {
		t.Fatalf("IPv6 target: %v", err)
	}
	bad = want
	bad.Op = 9
	if _, err := header.BuildARP(out, &bad); !errors.Is(err, header.ErrBadField) {
		t.Fatalf("op 9: %v", err)
	}
}

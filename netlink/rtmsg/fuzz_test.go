package rtmsg

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

var fuzzTypes = []uint16{unix.RTM_NEWLINK, unix.RTM_NEWADDR, unix.RTM_NEWROUTE, unix.RTM_NEWNEIGH, unix.RTM_NEWRULE, unix.RTM_NEWNETCONF}

// FuzzRtmsg decodes arbitrary bytes as every message type; whatever
// decodes must re-encode and decode to the same value.
func FuzzRtmsg(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(refDir, "notify-*.txt"))
	for _, p := range files {
		data, _ := os.ReadFile(p)
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "datagram "); ok && len(v) < 600 {
				f.Add(hexBytes(v))
			}
		}
	}
	r := &Route{Family: unix.AF_INET, Multipath: []NextHop{{Index: 1, Gateway: v4("192.0.2.1")}}, Metrics: &Metrics{CCAlgo: "x"}}
	b, _ := r.MarshalBinary()
	f.Add(append(make([]byte, 16), b...))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The input is a whole message: the header picks nothing, every
		// type is tried on the payload after 16 bytes (or on all of it).
		payload := b
		if len(b) >= 16 && binary.NativeEndian.Uint32(b) == uint32(len(b)) {
			payload = b[16:]
		}
		for _, typ := range fuzzTypes {
			m, err := Decode(typ, payload)
			if err != nil {
				continue
			}
			out, err := m.MarshalBinary()
			if err != nil {
				continue // e.g. an attribute grown past 64 KiB cannot happen from valid input
			}
			again := New(typ)
			if err := again.UnmarshalBinary(out); err != nil {
				t.Fatalf("type %d: re-decode of %x: %v", typ, out, err)
			}
			if !reflect.DeepEqual(normalize(m), normalize(again)) {
				t.Fatalf("type %d: round trip differs\n%+v\n%+v", typ, m, again)
			}
		}
		if l, ok, err := DecodeVethPeer(payload); err == nil && ok {
			_, _ = l.MarshalBinary()
		}
	})
}

// normalize drops what legitimately changes across a re-encode: strings
// cut at their first NUL, zero-length byte slices that become nil.
func normalize(m Message) Message {
	switch v := m.(type) {
	case *Link:
		c := *v
		c.Attrs = AttrSet{}
		return &c
	case *Addr:
		c := *v
		c.Attrs = AttrSet{}
		return &c
	case *Route:
		c := *v
		c.Attrs = AttrSet{}
		return &c
	case *Neigh:
		c := *v
		c.Attrs = AttrSet{}
		return &c
	case *Rule:
		c := *v
		c.Attrs = AttrSet{}
		return &c
	case *Netconf:
		c := *v
		c.Attrs = AttrSet{}
		return &c
	}
	return m
}

func hexBytes(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		b[i] = unhex(s[2*i])<<4 | unhex(s[2*i+1])
	}
	return b
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

package rtmsg

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNsidRoundTrip(t *testing.T) {
	n := &Nsid{NSID: 0, PID: 7, TargetNSID: 2, CurrentNSID: -1}
	n.Attrs.Set(unix.NETNSA_NSID)
	n.Attrs.Set(unix.NETNSA_TARGET_NSID)
	n.Attrs.Set(unix.NETNSA_CURRENT_NSID)
	b, err := n.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Nsid
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	n.Attrs.Set(unix.NETNSA_PID)
	if got.NSID != 0 || got.PID != 7 || got.TargetNSID != 2 || got.CurrentNSID != -1 || got.Attrs != n.Attrs || got.Attrs.Has(unix.NETNSA_FD) {
		t.Errorf("round trip: %+v", got)
	}
	b2, _ := got.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Errorf("re-encoding differs:\n%x\n%x", b, b2)
	}
}

// The kernel's answer to RTM_GETNSID (rtnl_net_fill): rtgenmsg padded to
// four bytes, NETNSA_NSID, and NETNSA_CURRENT_NSID for target requests.
func TestNsidKernelLayout(t *testing.T) {
	want := []byte{0, 0, 0, 0, 8, 0, 1, 0, 3, 0, 0, 0, 8, 0, 5, 0, 0xff, 0xff, 0xff, 0xff}
	n := &Nsid{NSID: 3, CurrentNSID: -1}
	n.Attrs.Set(unix.NETNSA_NSID)
	n.Attrs.Set(unix.NETNSA_CURRENT_NSID)
	b, _ := n.MarshalBinary()
	if !bytes.Equal(b, want) {
		t.Errorf("got %x, want %x", b, want)
	}
	// iproute2's requests: a bare family byte, then attributes.
	var r Nsid
	if err := r.UnmarshalBinary([]byte{0}); err != nil || r.Attrs != (AttrSet{}) {
		t.Errorf("bare request: %v %+v", err, r)
	}
	if err := r.UnmarshalBinary([]byte{0, 0, 0, 0, 6, 0, 1, 0, 1, 0}); err == nil {
		t.Errorf("short NETNSA_NSID accepted")
	}
}

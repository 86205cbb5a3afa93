package rtnl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSysctlNetconfKernelRef replays the sysctl writes of
// tests/kernelref/record-netconf.sh and compares the RTM_NEWNETCONF
// datagrams byte for byte with the kernel's: which writes notify (none
// when the value does not change), in which order (all, default, then
// the devices for all.forwarding) and with which attributes (the
// ifindex and the one that changed).
func TestSysctlNetconfKernelRef(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(refDir, "netconf-*.txt"))
	if len(files) == 0 {
		t.Skip("no kernel recording")
	}
	e := newEnv(t)
	ns := e.st.Default()
	ns.Exec().Do(func() { ns.Lo.Up() })
	e.mustDo(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, vethReq("v0", "v1"))
	if v0, v1 := ns.Dev.ByName("v0"), ns.Dev.ByName("v1"); v0.Ifindex() != 3 || v1.Ifindex() != 2 {
		t.Fatalf("ifindexes v0 %d v1 %d, the recording has 3 and 2", v0.Ifindex(), v1.Ifindex())
	}
	mon, err := e.srv.Open("", Cred{Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	mon.Join(unix.RTNLGRP_IPV4_NETCONF)
	for _, f := range files {
		text, _ := os.ReadFile(f)
		var kv string
		for _, l := range strings.Split(string(text), "\n") {
			if c, ok := strings.CutPrefix(l, "# command: sysctl -w "); ok {
				kv = c
			}
		}
		name, value, _ := strings.Cut(kv, "=")
		if err := ns.SetSysctl(name, value); err != nil {
			t.Fatalf("%s: %v", kv, err)
		}
		want := refFile(t, filepath.Base(f))
		got := drain(t, mon)
		if fmt.Sprint(len(got)) != fmt.Sprint(len(want)) {
			t.Fatalf("%s: %d datagrams, kernel %d", kv, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s: datagram %d\n got %x\nwant %x", kv, i+1, got[i], want[i])
			}
		}
	}
}

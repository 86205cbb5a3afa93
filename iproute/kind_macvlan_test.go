package iproute

import (
	"testing"

	"github.com/usnet/usnet/netlink/rtmsg"
)

func vlanPrintKind(print func(*printer, []byte), data []byte, json bool) string {
	p := &printer{json: json}
	p.openObject("")
	print(p, data)
	p.closeObject()
	return p.b.String()
}

func TestMacvlanParsePrint(t *testing.T) {
	data, err := parseMacvlan(nil, []string{"mode", "source", "macaddr", "set", "02:00:00:00:aa:01", "02:00:00:00:aa:02", "bcqueuelen", "500"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := rtmsg.DecodeMacvlan(data)
	if err != nil || m.Mode != 16 || m.MACAddrMode != 3 || len(m.MACAddrs) != 2 || m.BCQueueLen != 500 {
		t.Fatalf("parsed %+v %v", m, err)
	}
	if _, err := parseMacvlan(nil, []string{"mode", "bridge", "nopromisc"}); err == nil {
		t.Fatal("nopromisc outside passthru accepted")
	}
	// As the kernel dumps a source-mode macvlan (tests/ipcompat recording).
	dump := rtmsg.MacvlanInfo{Mode: 16, Count: 1, MACAddrs: [][6]byte{{2, 0, 0, 0, 0xaa, 1}}, BCQueueLen: 1000, BCQueueUsed: 1000,
		HasMode: true, HasFlags: true, HasCount: true, HasMACAddrs: true, HasBCQueueLen: true, HasBCQueueUsed: true}
	e := vlanEncoder()
	dump.Encode(e)
	if got, want := vlanPrintKind(printMacvlan, e.Bytes(), false), "mode source bcqueuelen 1000 usedbcqueuelen 1000 remotes (1) 02:00:00:00:aa:01 "; got != want {
		t.Fatalf("text\n got %q\nwant %q", got, want)
	}
	if got, want := vlanPrintKind(printMacvlan, e.Bytes(), true), `{"mode":"source","bcqueuelen":1000,"usedbcqueuelen":1000,"macaddr_count":1,"macaddr_data":["02:00:00:00:aa:01"]}`; got != want {
		t.Fatalf("json\n got %s\nwant %s", got, want)
	}
}

func TestIPVlanParsePrint(t *testing.T) {
	data, err := parseIPVlan(nil, []string{"mode", "l3s", "private"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := rtmsg.DecodeIPVlan(data)
	if err != nil || v.Mode != 2 || v.Flags != 1 {
		t.Fatalf("parsed %+v %v", v, err)
	}
	if _, err := parseIPVlan(nil, []string{"mode", "l4"}); err == nil {
		t.Fatal("mode l4 accepted")
	}
	if got, want := vlanPrintKind(printIPVlan, data, false), " mode l3s private "; got != want {
		t.Fatalf("text %q, want %q", got, want)
	}
	if got, want := vlanPrintKind(printIPVlan, data, true), `{"mode":"l3s","private":true}`; got != want {
		t.Fatalf("json %s, want %s", got, want)
	}
}

package iproute

import (
	"testing"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

func TestVLANParsePrint(t *testing.T) {
	data, err := parseVLAN(nil, []string{"id", "10", "protocol", "802.1ad", "reorder_hdr", "off", "loose_binding", "on",
		"ingress-qos-map", "1:2", "3:4", "egress-qos-map", "5:6", "gvrp", "on"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := rtmsg.DecodeVLAN(data)
	if err != nil {
		t.Fatal(err)
	}
	if v.ID != 10 || v.Protocol != unix.ETH_P_8021AD || v.Flags != 0x6 || v.FlagsMask != 0x7 ||
		len(v.Ingress) != 2 || v.Ingress[1] != (rtmsg.VLANQoSMapping{From: 3, To: 4}) || len(v.Egress) != 1 {
		t.Fatalf("parsed %+v", v)
	}
	if _, err := parseVLAN(nil, []string{"id", "x"}); err == nil || err.Error() != `Error: argument "x" is wrong: id is invalid` {
		t.Fatalf("bad id: %v", err)
	}
	if _, err := parseVLAN(nil, []string{"reorder_hdr", "maybe"}); err == nil {
		t.Fatal("reorder_hdr maybe accepted")
	}
	// What the kernel dumps for that device, printed as iproute2 6.1 does.
	dump := rtmsg.VLANInfo{Protocol: unix.ETH_P_8021AD, ID: 10, Flags: 0x6, FlagsMask: ^uint32(0),
		Ingress: v.Ingress, Egress: v.Egress, HasProtocol: true, HasID: true, HasFlags: true, HasIngress: true, HasEgress: true}
	e := vlanEncoder()
	dump.Encode(e)
	p := &printer{}
	printVLAN(p, e.Bytes())
	wantText := "protocol 802.1ad id 10 <GVRP,LOOSE_BINDING> \n      ingress-qos-map { 1:2 3:4 } \n      egress-qos-map { 5:6 } "
	if got := p.b.String(); got != wantText {
		t.Fatalf("text\n got %q\nwant %q", got, wantText)
	}
	p = &printer{json: true}
	p.openObject("")
	printVLAN(p, e.Bytes())
	p.closeObject()
	wantJSON := `{"protocol":"802.1ad","id":10,"flags":["GVRP","LOOSE_BINDING"],"ingress_qos":[{"from":1,"to":2},{"from":3,"to":4}],"egress_qos":[{"from":5,"to":6}]}`
	if got := p.b.String(); got != wantJSON {
		t.Fatalf("json\n got %s\nwant %s", got, wantJSON)
	}
}

func vlanEncoder() *netlink.AttributeEncoder { return netlink.NewAttributeEncoder(nil) }

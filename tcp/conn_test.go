package tcp_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

func TestHandshakeAndTransfer(t *testing.T) {
	w := newWorld(t, 1, 1500)
	cli, srv, _ := w.connect(80)
	d := w.transfer(cli, srv, 4<<20, time.Minute)
	t.Logf("4 MiB in %v virtual; info %+v", d, cli.Info)
	d = w.transfer(srv, cli, 1<<20, time.Minute)
}

// TestHandshakeOptions checks the SYN's options (Linux's set: MSS from
// the route, SACK-permitted, timestamps, window scale) and that data
// segments carry timestamps and leave room for them (MSS 1448), in GSO
// super-packets on the veth.
func TestHandshakeOptions(t *testing.T) {
	w := newWorld(t, 21, 1500)
	var syn header.TCPOptions
	var gso uint16
	var dataTS bool
	w.a.Dev.AddTap(w.da, func(d *netdev.Device, b *skb.Buf, dir netdev.Direction, now int64) {
		fr := b.Bytes()
		if dir != netdev.DirOut || fr[12] != 8 || fr[13] != 0 || fr[14+9] != 6 {
			return
		}
		h := header.TCP(b.Bytes()[14+20:])
		if h.Flags() == header.TCPFlagSYN {
			h.ParseOptions(&syn)
		}
		if len(h.Payload()) > 0 {
			var o header.TCPOptions
			h.ParseOptions(&o)
			dataTS = o.HasTimestamps
			gso = max(gso, b.GSOSize)
		}
	})
	cli, srv, _ := w.connect(80)
	w.transfer(cli, srv, 1<<20, time.Minute)
	if !syn.HasMSS || syn.MSS != 1460 || !syn.SACKPermitted || !syn.HasTimestamps || !syn.HasWScale || syn.WScale != 10 {
		t.Fatalf("SYN options %+v", syn)
	}
	if !dataTS || gso != 1448 {
		t.Fatalf("data: timestamps %v, GSO size %d", dataTS, gso)
	}
}

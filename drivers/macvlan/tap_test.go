package macvlan_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/macvlan"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

const etherTest = 0x88b5

func testFrame(dst, src [6]byte, payload string) []byte {
	f := append(append(append([]byte{}, dst[:]...), src[:]...), etherTest>>8, etherTest&0xff)
	return append(f, payload...)
}

// TestTapExchangesFrames: a program holding a macvtap's port sends a
// frame to the peer on the lower's link and reads the peer's answer, in
// real time (the port's backend goroutine meets the executor).
func TestTapExchangesFrames(t *testing.T) {
	s, err := stack.NewRealtime()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Add("a")
	b, _ := s.Add("b")
	defer s.Delete("a")
	defer s.Delete("b")
	ea, eb, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	b.Exec().Do(func() {
		eb.Up()
		b.Dev.AddProtocol(etherTest, func(_ *netdev.Device, bt *skb.Batch) {
			for _, p := range bt.Bufs() {
				got <- string(p.Bytes())
				p.Free()
			}
			bt.Reset()
		})
	})
	var tap *netdev.Device
	var port framedio.Port
	a.Exec().Do(func() {
		ea.Up()
		tap, port, err = macvlan.NewTap(macvlan.Config{Name: "macvtap0", Lower: ea, Mode: macvlan.ModeBridge})
		if err == nil {
			err = tap.Up()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if tap.Kind() != "macvtap" || macvlan.TapPort(tap) != port {
		t.Fatalf("kind %q, port %v", tap.Kind(), macvlan.TapPort(tap))
	}
	// Program -> peer.
	out := testFrame(eb.Addr(), tap.Addr(), "from the program")
	wio := &framedio.FrameIO{VecsPerFrame: 1, Vecs: []framedio.Vec{{Buf: out, Len: len(out)}}}
	if n, err := port.Write(wio, framedio.Block); n != 1 {
		t.Fatalf("write: %d %v", n, err)
	}
	select {
	case p := <-got:
		if p != "from the program" {
			t.Fatalf("peer got %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the peer never got the program's frame")
	}
	// Peer -> program (and not to the stack of namespace a).
	in := testFrame(tap.Addr(), eb.Addr(), "to the program")
	b.Exec().Do(func() {
		fr := b.Dev.Pool().Get(skb.DefaultHeadroom, len(in))
		fr.Append(in)
		bt := skb.NewBatch(1)
		bt.Add(fr)
		eb.Xmit(bt)
	})
	rio := &framedio.FrameIO{VecsPerFrame: 1, Vecs: []framedio.Vec{{Buf: make([]byte, 2048)}}}
	done := make(chan error, 1)
	go func() {
		_, err := port.Read(rio, framedio.Block)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the program never got the peer's frame")
	}
	if v := rio.Vecs[0]; !bytes.Equal(v.Buf[:v.Len], in) {
		t.Fatalf("program read %x, want %x", v.Buf[:v.Len], in)
	}
	var rx, tx uint64
	a.Exec().Do(func() { rx, tx = tap.Stats.RxPackets, tap.Stats.TxPackets })
	if rx != 1 || tx != 1 {
		t.Fatalf("macvtap counters rx %d tx %d, want 1 1", rx, tx)
	}
	// Unregistering the macvtap closes the program's port.
	a.Exec().Do(func() { a.Dev.Unregister(tap) })
	if _, err := port.Read(rio, framedio.Block); err == nil {
		t.Fatal("port still open after the macvtap went away")
	}
}

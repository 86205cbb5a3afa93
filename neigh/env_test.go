package neigh_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// solicit is one call of fakeOps.Solicit.
type solicit struct {
	at      time.Duration
	addr    netip.Addr
	unicast bool
	dst     [6]byte
	qid     int // id of the queued packet given as context, -1 for none
}

// fakeOps records what the table asks of its protocol.
type fakeOps struct {
	now      func() time.Duration
	solicits []solicit
	errs     []int // ids of packets reported unreachable
}

func (o *fakeOps) EtherType() uint16 { return 0x0800 }

func (o *fakeOps) Solicit(t *neigh.Table, e *neigh.Entry, unicast bool, q *skb.Buf) {
	s := solicit{at: o.now(), addr: e.Addr, unicast: unicast, dst: e.LLAddr, qid: -1}
	if q != nil {
		s.qid = pktID(q.Bytes())
		q.Free()
	}
	o.solicits = append(o.solicits, s)
}

func (o *fakeOps) ErrorReport(t *neigh.Table, e *neigh.Entry, b *skb.Buf) {
	o.errs = append(o.errs, pktID(b.Bytes()))
	b.Free()
}

// env is namespace a with a neighbour table, linked by veth to b, which
// records the IPv4 frames it receives.
type env struct {
	s      *stack.Stack
	a, b   *stack.Namespace
	da, db *netdev.Device
	ops    *fakeOps
	tbl    *neigh.Table
	rx     []rxFrame
	events []string
}

type rxFrame struct {
	dst, src [6]byte
	id       int
}

var (
	peerIP = netip.MustParseAddr("10.0.0.2")
	peerLL = [6]byte{0x02, 0, 0, 0, 0, 0x02}
)

func newEnv(t testing.TB) *env {
	t.Helper()
	s, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{s: s}
	e.a, _ = s.Add("a")
	e.b, _ = s.Add("b")
	e.da, e.db, err = veth.Create(veth.End{Table: e.a.Dev, Name: "eth0", Addr: [6]byte{0x02, 0, 0, 0, 0, 1}},
		veth.End{Table: e.b.Dev, Name: "eth0", Addr: peerLL})
	if err != nil {
		t.Fatal(err)
	}
	e.ops = &fakeOps{now: s.Sim.Now}
	e.tbl = neigh.NewTable(e.a.Dev, e.ops)
	e.tbl.Subscribe(func(ev neigh.Event, n *neigh.Entry) {
		k := "new"
		if ev == neigh.EventDelete {
			k = "del"
		}
		e.events = append(e.events, k+" "+n.Addr.String()+" "+n.State.String())
	})
	e.b.Dev.AddProtocol(0x0800, func(dev *netdev.Device, bt *skb.Batch) {
		for _, b := range bt.Bufs() {
			l2 := b.From(b.L2)
			e.rx = append(e.rx, rxFrame{dst: [6]byte(l2[0:6]), src: [6]byte(l2[6:12]), id: pktID(b.Bytes())})
			b.Free()
		}
		bt.Reset()
	})
	e.da.Up()
	e.db.Up()
	s.Sim.RunFor(time.Millisecond) // carrier
	return e
}

// pkt returns an IPv4-looking packet of n bytes (n >= 20) carrying id.
func (e *env) pkt(id, n int) *skb.Buf {
	b := e.s.Pool().Get(skb.DefaultHeadroom, n)
	p := b.Put(n)
	clear(p)
	p[0] = 0x45
	copy(p[12:16], []byte{10, 0, 0, 1})
	copy(p[16:20], []byte{10, 0, 0, 2})
	p[4], p[5] = byte(id>>8), byte(id)
	return b
}

func pktID(p []byte) int {
	if len(p) < 20 {
		return -1
	}
	return int(p[4])<<8 | int(p[5])
}

// output sends packet id to nexthop as the IPv4 layer would.
func (e *env) output(nexthop netip.Addr, id int) {
	out := skb.NewBatch(1)
	e.tbl.Output(e.da, nexthop, e.pkt(id, 100), out)
	if out.Len() > 0 {
		e.da.Xmit(out)
	}
}

func (e *env) state(addr netip.Addr) neigh.State {
	n := e.tbl.Lookup(e.da.Ifindex(), addr)
	if n == nil {
		return neigh.StateNone
	}
	return n.State
}

// runTo advances virtual time to exactly at.
func (e *env) runTo(at time.Duration) { e.s.Sim.RunUntil(at) }

func (e *env) now() time.Duration { return e.s.Sim.Now() }

func ids(rx []rxFrame) []int {
	var l []int
	for _, f := range rx {
		l = append(l, f.id)
	}
	return l
}

package sched_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/sched"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

const etherTest = 0x88b5

type link struct {
	s      *stack.Stack
	a, b   *netdev.Device
	arrive []time.Duration
}

func newLink(t *testing.T, seed uint64) *link {
	s, _ := stack.NewSim(seed)
	na, _ := s.Add("a")
	nb, _ := s.Add("b")
	a, b, err := veth.Create(veth.End{Table: na.Dev, Name: "eth0"}, veth.End{Table: nb.Dev, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	l := &link{s: s, a: a, b: b}
	nb.Dev.AddProtocol(etherTest, func(_ *netdev.Device, bt *skb.Batch) {
		for range bt.Len() {
			l.arrive = append(l.arrive, s.Sim.Now())
		}
		bt.Free()
	})
	a.Up()
	b.Up()
	s.Sim.RunFor(time.Millisecond)
	return l
}

func (l *link) send(n, size int) {
	bt := skb.NewBatch(n)
	dst := l.b.Addr()
	for range n {
		p := l.s.Pool().Get(skb.DefaultHeadroom, size)
		h := p.Put(size)
		copy(h, dst[:])
		h[12], h[13] = etherTest>>8, etherTest&0xff
		bt.Add(p)
	}
	l.a.Xmit(bt)
}

func TestNetemDelayAndRate(t *testing.T) {
	l := newLink(t, 1)
	start := l.s.Sim.Now()
	// 1000-byte frames at 8 Mbit/s: 1 ms each on the wire, plus 10 ms delay.
	l.a.SetQdisc(sched.NewNetem(sched.NetemConfig{Delay: 10 * time.Millisecond, Rate: 8e6}, l.a.Table().Net().Exec().Rand(), l.s.Pool()))
	l.send(5, 1000)
	l.s.Sim.RunFor(time.Second)
	if len(l.arrive) != 5 {
		t.Fatalf("arrived %d", len(l.arrive))
	}
	for i, at := range l.arrive {
		want := start + 10*time.Millisecond + time.Duration(i+1)*time.Millisecond
		if at != want {
			t.Errorf("frame %d at %v, want %v", i, at-start, want-start)
		}
	}
	if l.s.Pool().Live() != 0 {
		t.Fatal("leak")
	}
}

// TestNetemLossRepeats: the same seed drops the same packets; the loss
// rate is near the configured one.
func TestNetemLossRepeats(t *testing.T) {
	run := func(seed uint64) (int, []time.Duration) {
		l := newLink(t, seed)
		l.a.SetQdisc(sched.NewNetem(sched.NetemConfig{Loss: 0.05, Duplicate: 0.01, Reorder: 0.02, Delay: time.Millisecond}, l.a.Table().Net().Exec().Rand(), l.s.Pool()))
		for range 100 {
			l.send(10, 100)
			l.s.Sim.RunFor(time.Millisecond)
		}
		l.s.Sim.RunFor(time.Second)
		return len(l.arrive), l.arrive
	}
	n1, a1 := run(3)
	n2, a2 := run(3)
	if n1 != n2 || len(a1) != len(a2) {
		t.Fatalf("same seed: %d vs %d", n1, n2)
	}
	for i := range a1 {
		if a1[i] != a2[i] {
			t.Fatal("same seed, different arrival times")
		}
	}
	if n1 < 900 || n1 > 990 {
		t.Fatalf("arrived %d of 1000 with 5%% loss", n1)
	}
}

func TestPFIFOPassesTraffic(t *testing.T) {
	l := newLink(t, 1)
	q := sched.NewPFIFO(10)
	l.a.SetQdisc(q)
	l.send(5, 100)
	l.s.Sim.RunFor(time.Millisecond)
	if len(l.arrive) != 5 || q.Len() != 0 {
		t.Fatalf("arrived %d, queued %d", len(l.arrive), q.Len())
	}
}

func TestPFIFOLimit(t *testing.T) {
	pool := skb.NewPool()
	q := sched.NewPFIFO(3)
	for i := range 5 {
		ok := q.Enqueue(pool.GetData([]byte{byte(i)}), 0)
		if ok != (i < 3) {
			t.Fatalf("enqueue %d: %v", i, ok)
		}
	}
	if q.Drops != 2 || q.Len() != 3 || q.Backlog != 3 {
		t.Fatalf("drops %d len %d backlog %d", q.Drops, q.Len(), q.Backlog)
	}
	for i := range 3 {
		b := q.Dequeue(0)
		if b.Bytes()[0] != byte(i) {
			t.Fatalf("order: got %d want %d", b.Bytes()[0], i)
		}
		b.Free()
	}
	if q.Dequeue(0) != nil || pool.Live() != 0 {
		t.Fatal("queue not empty or leak")
	}
}

package skb

import (
	"bytes"
	"testing"
)

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatalf("%s did not panic", what)
		}
	}()
	f()
}

func TestPushPullPut(t *testing.T) {
	p := NewPool()
	b := p.Get(64, 100)
	copy(b.Put(4), "data")
	copy(b.Push(2), "hd")
	if got := string(b.Bytes()); got != "hddata" {
		t.Fatalf("Bytes = %q", got)
	}
	if b.Headroom() != 62 {
		t.Fatalf("Headroom = %d", b.Headroom())
	}
	if h := b.Pull(2); string(h) != "hd" {
		t.Fatalf("Pull = %q", h)
	}
	if b.Pull(100) != nil || b.Push(1000) != nil || b.Put(1<<20) != nil {
		t.Fatal("out-of-range push/pull/put must return nil")
	}
	b.Trim(2)
	if string(b.Bytes()) != "da" {
		t.Fatalf("Trim: %q", b.Bytes())
	}
	b.Free()
	if p.Live() != 0 {
		t.Fatalf("Live = %d", p.Live())
	}
}

func TestHeaderPositionsSurviveExpand(t *testing.T) {
	p := NewPool()
	b := p.Get(4, 20)
	b.Append([]byte("0123456789"))
	b.SetL3()
	b.Pull(2)
	b.SetL4()
	if !b.Expand(500, 0) {
		t.Fatal("Expand failed")
	}
	if got := string(b.From(b.L3)); got != "0123456789" {
		t.Fatalf("L3 after expand = %q", got)
	}
	if got := string(b.From(b.L4)); got != "23456789" {
		t.Fatalf("L4 after expand = %q", got)
	}
	if b.Headroom() < 500 {
		t.Fatal("headroom not grown")
	}
	b.Free()
}

func TestCloneSharesDataUnshareCopies(t *testing.T) {
	p := &Pool{Debug: true}
	a := p.GetData([]byte("hello"))
	a.Mark = 7
	c := a.Clone()
	if !a.Shared() || !c.Shared() {
		t.Fatal("clone must share data")
	}
	c.Mark = 9
	if a.Mark != 7 {
		t.Fatal("clone must own its metadata")
	}
	if !c.Unshare() {
		t.Fatal("Unshare failed")
	}
	c.Bytes()[0] = 'j'
	if string(a.Bytes()) != "hello" || string(c.Bytes()) != "jello" {
		t.Fatalf("after unshare: %q %q", a.Bytes(), c.Bytes())
	}
	a.Free()
	if string(c.Bytes()) != "jello" {
		t.Fatal("freeing the original changed the copy")
	}
	c.Free()
	if p.Live() != 0 {
		t.Fatalf("Live = %d", p.Live())
	}
}

func TestCloneKeepsChunkAliveUntilLastFree(t *testing.T) {
	p := &Pool{Debug: true}
	a := p.GetData([]byte("payload"))
	c := a.Clone()
	a.Free()
	if !bytes.Equal(c.Bytes(), []byte("payload")) {
		t.Fatalf("data of clone poisoned after freeing the original: %q", c.Bytes())
	}
	c.Free()
}

func TestDoubleFreeAndUseAfterFreePanic(t *testing.T) {
	for _, debug := range []bool{false, true} {
		p := &Pool{Debug: debug}
		b := p.GetData([]byte("x"))
		b.Free()
		mustPanic(t, "double free", b.Free)
		if debug {
			mustPanic(t, "Bytes after free", func() { b.Bytes() })
			mustPanic(t, "Push after free", func() { b.Push(1) })
			mustPanic(t, "Clone after free", func() { b.Clone() })
		}
	}
}

func TestTooLarge(t *testing.T) {
	p := NewPool()
	if p.Get(0, MaxSize+1) != nil {
		t.Fatal("oversize Get must fail")
	}
	b := p.GetData(make([]byte, 1000))
	if b.Expand(MaxSize, 0) {
		t.Fatal("oversize Expand must fail")
	}
	b.Free()
}

func TestBatch(t *testing.T) {
	p := NewPool()
	bt := NewBatch(4)
	for i := 0; i < 10; i++ {
		bt.Add(p.GetData([]byte("abc")))
	}
	if bt.Len() != 10 || bt.Bytes() != 30 {
		t.Fatalf("Len %d Bytes %d", bt.Len(), bt.Bytes())
	}
	bt.Free()
	if bt.Len() != 0 || p.Live() != 0 {
		t.Fatalf("after Free: len %d live %d", bt.Len(), p.Live())
	}
}

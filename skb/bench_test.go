package skb

import "testing"

// BenchmarkGetFree is the steady-state cost of taking a buffer for a packet
// and releasing it: it must not allocate.
func BenchmarkGetFree(b *testing.B) {
	p := NewPool()
	p.Get(DefaultHeadroom, 1500).Free()
	b.ReportAllocs()
	for b.Loop() {
		buf := p.Get(DefaultHeadroom, 1500)
		buf.Put(1500)
		buf.Free()
	}
}

// BenchmarkClone measures clone + free of both (e.g. a capture tap).
func BenchmarkClone(b *testing.B) {
	p := NewPool()
	buf := p.Get(DefaultHeadroom, 1500)
	buf.Put(1500)
	buf.Clone().Free()
	b.ReportAllocs()
	for b.Loop() {
		buf.Clone().Free()
	}
	buf.Free()
}

// BenchmarkPushPull is the per-layer header cost on the data path.
func BenchmarkPushPull(b *testing.B) {
	p := NewPool()
	buf := p.Get(DefaultHeadroom, 1500)
	buf.Put(1400)
	b.ReportAllocs()
	for b.Loop() {
		buf.Push(20)
		buf.Push(14)
		buf.Pull(14)
		buf.Pull(20)
	}
	buf.Free()
}

// BenchmarkBatch64 fills and frees a batch of 64 packets: per-packet cost is
// ns/op / 64.
func BenchmarkBatch64(b *testing.B) {
	p := NewPool()
	bt := NewBatch(64)
	b.ReportAllocs()
	for b.Loop() {
		for range 64 {
			bt.Add(p.Get(DefaultHeadroom, 64))
		}
		bt.Free()
	}
}

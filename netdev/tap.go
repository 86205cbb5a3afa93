package netdev

import "github.com/usnet/usnet/skb"

// Direction of a frame seen by a tap.
type Direction uint8

// Directions, as pcapng's epb_flags encode them.
const (
	DirIn  Direction = 1
	DirOut Direction = 2
)

// TapFunc sees a frame on a device (Linux's ptype_all / packet sockets):
// b.Bytes() is the whole frame, link-layer header included. The tap must
// not keep or change b (Clone it to keep it); now is the namespace clock in
// nanoseconds. A GSO super-packet (b.GSOSize > 0) is shown as one frame.
type TapFunc func(d *Device, b *skb.Buf, dir Direction, now int64)

type tap struct {
	dev *Device // nil: every device
	fn  TapFunc
}

// AddTap registers a tap on d (nil: all devices of the table) and returns
// a function that removes it. A tap on a device ends when the device is
// unregistered or leaves the namespace.
func (t *Table) AddTap(d *Device, fn TapFunc) (remove func()) {
	tp := &tap{dev: d, fn: fn}
	t.taps = append(t.taps, tp)
	return func() {
		for i, x := range t.taps {
			if x == tp {
				t.taps = append(t.taps[:i], t.taps[i+1:]...)
				return
			}
		}
	}
}

func (t *Table) removeTaps(d *Device) {
	out := t.taps[:0]
	for _, tp := range t.taps {
		if tp.dev != d {
			out = append(out, tp)
		}
	}
	clear(t.taps[len(out):])
	t.taps = out
}

func (t *Table) deliverTaps(d *Device, b *skb.Buf, dir Direction) {
	now := int64(t.net.Exec().Now())
	for _, tp := range t.taps {
		if tp.dev == nil || tp.dev == d {
			tp.fn(d, b, dir, now)
		}
	}
}

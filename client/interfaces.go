package client

import (
	"context"
	"errors"
	"slices"
	"syscall"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// Interface is a device with its addresses, one block of `ip address`.
type Interface struct {
	Link  Link
	Addrs []Addr // in the order the stack lists them
	// Deleted is set on the last Interface emitted for a device that
	// went away (or moved to another namespace).
	Deleted bool
}

// Interfaces combines the link and address notifications into a live
// view of the namespace's interfaces. It first emits every interface, in
// ifindex order, then the updated Interface after each change, until ctx
// ends. When the consumer falls behind and notifications are lost, it
// reads the state again and emits every interface once more (and a
// Deleted one for each that disappeared meanwhile), so the view is
// always right after the latest value of each interface.
func (n *Namespace) Interfaces(ctx context.Context) (<-chan Interface, error) {
	s, err := n.openSub([]Group{GroupLink, GroupIPv4Addr})
	if err != nil {
		return nil, err
	}
	v := &view{s: s, ifs: map[int]*Interface{}}
	if err := v.resync(); err != nil {
		s.c.t.Close()
		return nil, wrap("interfaces", err)
	}
	ch := make(chan Interface, n.c.opts.eventBuffer)
	go v.run(ctx, ch)
	return ch, nil
}

type view struct {
	s   *sub
	ifs map[int]*Interface
	// gone are interfaces that disappeared in the last resync.
	gone []Interface
}

// resync reads links and addresses afresh, then applies the
// notifications that arrived during the dumps (each sets an object to
// its value at that time, so replaying them in order over the snapshot
// converges on the current state). It retries while some were lost.
func (v *view) resync() error {
	for {
		s := v.s
		s.pending, s.lost = s.pending[:0], false
		ifs := map[int]*Interface{}
		hdr := rtmsg.Link{}
		p, _ := hdr.MarshalBinary()
		err := s.c.dump(unix.RTM_GETLINK, p, func(h netlink.Header, data []byte) error {
			if l, err := decodeLinkMsg(data); err == nil && h.Type == unix.RTM_NEWLINK {
				ifs[l.Index] = &Interface{Link: l}
			}
			return nil
		})
		if err != nil {
			return err
		}
		ah := rtmsg.Addr{Family: unix.AF_INET}
		p, _ = ah.MarshalBinary()
		err = s.c.dump(unix.RTM_GETADDR, p, func(h netlink.Header, data []byte) error {
			if a, err := decodeAddrMsg(data); err == nil && h.Type == unix.RTM_NEWADDR {
				if i := ifs[a.Index]; i != nil {
					i.Addrs = append(i.Addrs, a)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if s.lost {
			continue
		}
		v.gone = v.gone[:0]
		for idx, old := range v.ifs {
			if ifs[idx] == nil {
				v.gone = append(v.gone, Interface{Link: old.Link, Addrs: old.Addrs, Deleted: true})
			}
		}
		v.ifs = ifs
		for _, m := range s.pending {
			v.apply(m.Header, m.Data)
		}
		s.pending = s.pending[:0]
		return nil
	}
}

// apply updates the view with one notification and returns the affected
// interface (a copy), ok false when nothing changed.
func (v *view) apply(h netlink.Header, data []byte) (Interface, bool) {
	switch h.Type {
	case unix.RTM_NEWLINK:
		l, err := decodeLinkMsg(data)
		if err != nil {
			return Interface{}, false
		}
		i := v.ifs[l.Index]
		if i == nil {
			i = &Interface{}
			v.ifs[l.Index] = i
		}
		i.Link = l
		return i.copy(), true
	case unix.RTM_DELLINK:
		l, err := decodeLinkMsg(data)
		if err != nil {
			return Interface{}, false
		}
		i := v.ifs[l.Index]
		if i == nil {
			return Interface{}, false
		}
		delete(v.ifs, l.Index)
		return Interface{Link: l, Addrs: i.Addrs, Deleted: true}, true
	case unix.RTM_NEWADDR, unix.RTM_DELADDR:
		a, err := decodeAddrMsg(data)
		if err != nil {
			return Interface{}, false
		}
		i := v.ifs[a.Index]
		if i == nil {
			return Interface{}, false
		}
		k := slices.IndexFunc(i.Addrs, func(b Addr) bool { return b.Prefix == a.Prefix && b.Peer == a.Peer })
		switch {
		case h.Type == unix.RTM_DELADDR && k < 0:
			return Interface{}, false
		case h.Type == unix.RTM_DELADDR:
			i.Addrs = slices.Delete(slices.Clone(i.Addrs), k, k+1)
		case k >= 0:
			i.Addrs = slices.Clone(i.Addrs)
			i.Addrs[k] = a
		default:
			i.Addrs = append(slices.Clip(i.Addrs), a)
		}
		return i.copy(), true
	}
	return Interface{}, false
}

// copy returns the interface with its own address slice (the view's
// slices are never written in place once handed out: apply clones).
func (i *Interface) copy() Interface { return Interface{Link: i.Link, Addrs: slices.Clip(i.Addrs)} }

// all returns every interface in ifindex order, then the deleted ones.
func (v *view) all() []Interface {
	out := make([]Interface, 0, len(v.ifs)+len(v.gone))
	for _, i := range v.ifs {
		out = append(out, i.copy())
	}
	slices.SortFunc(out, func(a, b Interface) int { return a.Link.Index - b.Link.Index })
	return append(out, v.gone...)
}

func (v *view) run(ctx context.Context, ch chan<- Interface) {
	defer close(ch)
	t := v.s.c.t
	stop := context.AfterFunc(ctx, func() { t.Close() })
	defer func() {
		if stop() {
			t.Close()
		}
	}()
	emit := func(i Interface) bool {
		select {
		case ch <- i:
			return true
		case <-ctx.Done():
			return false
		}
	}
	emitAll := func() bool {
		for _, i := range v.all() {
			if !emit(i) {
				return false
			}
		}
		return true
	}
	ok := emitAll()
	for ok {
		err := v.s.next(func(h netlink.Header, data []byte) {
			if i, changed := v.apply(h, data); changed && ok {
				ok = emit(i)
			}
		})
		switch {
		case errors.Is(err, syscall.ENOBUFS):
			if v.resync() != nil {
				return
			}
			ok = emitAll()
		case err != nil:
			return
		}
	}
}

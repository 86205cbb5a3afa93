package neigh

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"syscall"

	"github.com/usnet/usnet/netdev"
)

// Subscribe adds a notifier (the rtnetlink RTM_NEWNEIGH/RTM_DELNEIGH
// source). It is told of later events only.
func (t *Table) Subscribe(f Notifier) { t.notifiers = append(t.notifiers, f) }

func (t *Table) notify(ev Event, e *Entry) {
	for _, f := range t.notifiers {
		f(ev, e)
	}
}

// AddRequest is an RTM_NEWNEIGH request (`ip neigh add/replace/change`).
type AddRequest struct {
	Dev    *netdev.Device // nil only for a proxy entry on every device
	Addr   netip.Addr
	LLAddr *[6]byte // NDA_LLADDR, nil when absent
	State  State    // ndm_state
	// Flags are ndm_flags: NTF_ROUTER, NTF_USE, NTF_EXT_LEARNED;
	// NTF_PROXY makes the request one for the proxy table.
	Flags    Flags
	Protocol uint8 // NDA_PROTOCOL, 0 when absent (kept for proxy entries)
	// NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE.
	Create, Excl, Replace bool
}

// Add is neigh_add. `ip neigh add` sends Create|Excl, `replace`
// Create|Replace, `change` Replace. With FlagProxy it creates or updates
// a proxy entry whatever the NLM_F flags, as Linux does (Dev may be nil:
// every device). Errors: EINVAL (no device), ENODEV (a device of another
// table), ENOENT (absent without Create), EEXIST (present with Excl),
// ENOBUFS (table full), and those of UpdateEntry.
//
// NTF_ROUTER and NTF_EXT_LEARNED are applied as given on a new entry and
// with Replace; a plain update of an existing entry keeps NTF_ROUTER
// (NEIGH_UPDATE_F_OVERRIDE_ISROUTER is cleared) but sets or clears
// NTF_EXT_LEARNED, as administrative updates do in Linux.
func (t *Table) Add(r AddRequest) error {
	if r.Flags&FlagProxy != 0 {
		return t.addProxy(r)
	}
	if r.Dev == nil || t.devs.ByIndex(r.Dev.Ifindex()) != r.Dev {
		return fmt.Errorf("neigh: device not specified: %w", syscall.EINVAL)
	}
	flags := UpdateAdmin | UpdateOverride | UpdateOverrideIsRouter
	e := t.entries[key{r.Dev.Ifindex(), r.Addr}]
	if e == nil {
		if !r.Create {
			return fmt.Errorf("neigh: no entry for %v: %w", r.Addr, syscall.ENOENT)
		}
		exempt := r.State&StatePermanent != 0 || r.Flags&FlagExtLearned != 0
		var err error
		if e, err = t.create(r.Dev, r.Addr, exempt); err != nil {
			return err
		}
		e.Flags |= r.Flags & FlagExtLearned
	} else {
		if r.Excl {
			return fmt.Errorf("neigh: entry for %v exists: %w", r.Addr, syscall.EEXIST)
		}
		if !r.Replace {
			flags &^= UpdateOverride | UpdateOverrideIsRouter
		}
	}
	if r.Flags&FlagExtLearned != 0 {
		flags |= UpdateExtLearned
	}
	if r.Flags&FlagRouter != 0 {
		flags |= UpdateIsRouter
	}
	if r.Flags&FlagUse != 0 {
		// NEIGH_UPDATE_F_USE: no state change, just use the entry as
		// output would (start or refresh resolution).
		t.updateExtLearned(e, flags)
		if e.State&StatePermanent != 0 {
			e.State &^= StatePermanent
			t.updateGC(e)
		}
		e.Used = t.exec.Now()
		if !e.State.Connected() && e.State&(StateDelay|StateProbe) == 0 {
			t.eventSend(e, nil)
		}
		return nil
	}
	return t.UpdateEntry(e, r.LLAddr, r.State, flags)
}

// Delete is neigh_delete: the entry goes to FAILED (dropping its queue)
// and is removed. ENOENT if there is none.
func (t *Table) Delete(dev *netdev.Device, addr netip.Addr) error {
	if dev == nil {
		return fmt.Errorf("neigh: device not specified: %w", syscall.EINVAL)
	}
	e := t.entries[key{dev.Ifindex(), addr}]
	if e == nil {
		return fmt.Errorf("neigh: no entry for %v on %s: %w", addr, dev.Name(), syscall.ENOENT)
	}
	err := t.UpdateEntry(e, nil, StateFailed, UpdateOverride|UpdateAdmin)
	t.remove(e)
	return err
}

// Dump returns the entries ordered by device index, then address: a
// deterministic stand-in for Linux's hash-bucket order.
func (t *Table) Dump() []*Entry {
	l := make([]*Entry, 0, len(t.entries))
	for e := t.head; e != nil; e = e.next {
		l = append(l, e)
	}
	slices.SortFunc(l, func(a, b *Entry) int {
		if c := cmp.Compare(a.k.ifindex, b.k.ifindex); c != 0 {
			return c
		}
		return a.Addr.Compare(b.Addr)
	})
	return l
}

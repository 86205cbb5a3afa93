package addrconf

import (
	"fmt"
	"syscall"

	"github.com/usnet/usnet/netdev"
)

// AddrGenMode is IN6_ADDR_GEN_MODE_* (include/uapi/linux/if_link.h).
type AddrGenMode uint8

// Address generation modes.
const (
	AddrGenEUI64         AddrGenMode = 0
	AddrGenNone          AddrGenMode = 1
	AddrGenStablePrivacy AddrGenMode = 2
	AddrGenRandom        AddrGenMode = 3
)

// Table holds the IPv6 settings of one namespace's devices. Devices keep
// the default (EUI-64, net.ipv6.conf.default.addr_gen_mode) until set, so
// only changed devices take memory.
type Table struct {
	modes map[int]AddrGenMode
}

type key struct{}

// For returns the table of the namespace that owns devs, creating it on
// first use (executor only).
func For(devs *netdev.Table) *Table {
	n := devs.Net()
	if t, ok := n.Generic(key{}).(*Table); ok {
		return t
	}
	t := &Table{modes: map[int]AddrGenMode{}}
	n.SetGeneric(key{}, t)
	devs.Subscribe(func(ev netdev.Event, d *netdev.Device) {
		if ev == netdev.EventUnregister {
			delete(t.modes, d.Ifindex()) // addrconf_ifdown(how=1)
		}
	})
	return t
}

// AddrGenMode returns d's address generation mode.
func (t *Table) AddrGenMode(d *netdev.Device) AddrGenMode {
	return t.modes[d.Ifindex()]
}

// SetAddrGenMode sets d's mode after the checks of inet6_validate_link_af:
// EINVAL for an unknown mode, and for stable_secret, which needs a
// stable_secret sysctl usnet does not have (as Linux answers when none is
// set).
func (t *Table) SetAddrGenMode(d *netdev.Device, m AddrGenMode) error {
	switch m {
	case AddrGenEUI64, AddrGenNone, AddrGenRandom:
	case AddrGenStablePrivacy:
		return fmt.Errorf("addrconf: no stable_secret set: %w", syscall.EINVAL)
	default:
		return fmt.Errorf("addrconf: unknown address generation mode %d: %w", m, syscall.EINVAL)
	}
	if m == AddrGenEUI64 {
		delete(t.modes, d.Ifindex())
	} else {
		t.modes[d.Ifindex()] = m
	}
	return nil
}

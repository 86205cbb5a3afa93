package neigh

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"syscall"

	"github.com/usnet/usnet/netdev"
)

// DefaultMaxProxy bounds the proxy entries of a table. Linux allocates
// pneigh entries without a limit (ENOBUFS only when memory runs out);
// usnet refuses more than this many with the same errno.
const DefaultMaxProxy = 1024

// Proxy is a proxy neighbour entry (struct pneigh_entry): the namespace
// answers solicitations for Addr arriving on Dev (on any device when Dev
// is nil) on behalf of another host. Proxy entries have no state machine
// and no link-layer address. Fields are read-only outside this package.
type Proxy struct {
	Addr netip.Addr
	Dev  *netdev.Device // nil: every device
	// Flags are the ndm_flags given when the entry was last set (they
	// include FlagProxy).
	Flags Flags
	// Protocol is NDA_PROTOCOL, who installed the entry (0: unset).
	Protocol uint8
	// Permanent: added with NUD_PERMANENT; such entries survive carrier
	// loss (pneigh_ifdown with skip_perm).
	Permanent bool
}

// Ifindex returns the entry's device index, 0 for every device.
func (p *Proxy) Ifindex() int {
	if p.Dev == nil {
		return 0
	}
	return p.Dev.Ifindex()
}

// proxyKey keys proxy entries; ifindex 0 is the wildcard entry.
func proxyKey(dev *netdev.Device, addr netip.Addr) key {
	if dev == nil {
		return key{0, addr}
	}
	return key{dev.Ifindex(), addr}
}

// LookupProxy is pneigh_lookup: the proxy entry for addr on dev, or the
// one for addr on every device, or nil. Proxy ARP answers with it.
func (t *Table) LookupProxy(dev *netdev.Device, addr netip.Addr) *Proxy {
	if len(t.proxies) == 0 {
		return nil
	}
	if p := t.proxies[proxyKey(dev, addr)]; p != nil {
		return p
	}
	return t.proxies[key{0, addr}]
}

// addProxy is the NTF_PROXY branch of neigh_add (pneigh_create): create
// the entry or update the flags, protocol and permanence of the one
// LookupProxy finds; as in Linux, a wildcard entry for the address is
// the one updated by a request naming a device.
func (t *Table) addProxy(r AddRequest) error {
	if r.Dev != nil && t.devs.ByIndex(r.Dev.Ifindex()) != r.Dev {
		return fmt.Errorf("neigh: no such device: %w", syscall.ENODEV)
	}
	p := t.LookupProxy(r.Dev, r.Addr)
	if p == nil {
		if len(t.proxies) >= t.MaxProxy {
			return fmt.Errorf("neigh: proxy table full: %w", syscall.ENOBUFS)
		}
		p = &Proxy{Addr: r.Addr, Dev: r.Dev}
		t.proxies[proxyKey(r.Dev, r.Addr)] = p
	}
	p.Flags = r.Flags
	p.Permanent = r.State&StatePermanent != 0
	if r.Protocol != 0 {
		p.Protocol = r.Protocol
	}
	return nil
}

// DeleteProxy is pneigh_delete: remove the proxy entry for addr on dev
// exactly (dev nil: the wildcard entry). ENOENT if there is none.
func (t *Table) DeleteProxy(dev *netdev.Device, addr netip.Addr) error {
	k := proxyKey(dev, addr)
	if t.proxies[k] == nil {
		return fmt.Errorf("neigh: no proxy entry for %v: %w", addr, syscall.ENOENT)
	}
	delete(t.proxies, k)
	return nil
}

// ProxyLen returns the number of proxy entries.
func (t *Table) ProxyLen() int { return len(t.proxies) }

// DumpProxy returns the proxy entries ordered by device index, then
// address (Linux walks its 16 hash buckets).
func (t *Table) DumpProxy() []*Proxy {
	l := make([]*Proxy, 0, len(t.proxies))
	for _, p := range t.proxies {
		l = append(l, p)
	}
	slices.SortFunc(l, func(a, b *Proxy) int {
		if c := cmp.Compare(a.Ifindex(), b.Ifindex()); c != 0 {
			return c
		}
		return a.Addr.Compare(b.Addr)
	})
	return l
}

// flushProxy is pneigh_ifdown: drop dev's proxy entries (all of them
// when dev is nil), but the permanent ones when keepPermanent is set.
// Linux sends no notification for these removals.
func (t *Table) flushProxy(dev *netdev.Device, keepPermanent bool) {
	for k, p := range t.proxies {
		if keepPermanent && p.Permanent {
			continue
		}
		if dev == nil || p.Dev == dev {
			delete(t.proxies, k)
		}
	}
}

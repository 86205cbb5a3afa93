package fib

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// infoStore holds the route attributes aliases share (struct fib_info):
// everything but destination and TOS. Single-path infos are deduplicated
// as fib_create_info does with fib_find_info, so a million routes through
// one gateway cost one info; nexthop state (DEAD, LINKDOWN) lives here,
// shared by every route using it, as in the kernel.
type infoStore struct {
	infos []*Route // Dst and TOS unused
	refs  []uint32
	free  []uint32
	dedup map[infoKey]uint32
}

// infoKey identifies a shareable info. Nexthop flags other than ONLINK are
// state, not identity (RTNH_COMPARE_MASK).
type infoKey struct {
	table, priority      uint32
	typ, scope, protocol uint8
	prefsrc              netip.Addr
	flags                uint32
	metrics              Metrics
	gw                   netip.Addr
	ifindex, weight      int
	onlink               uint32
}

func newInfoStore() *infoStore { return &infoStore{dedup: map[infoKey]uint32{}} }

func keyOf(r *Route) (infoKey, bool) {
	if len(r.Nexthops) != 1 {
		return infoKey{}, false
	}
	nh := r.Nexthops[0]
	return infoKey{r.Table, r.Priority, r.Type, r.Scope, r.Protocol, r.Prefsrc, r.Flags, r.Metrics,
		nh.Gateway, nh.Ifindex, max(nh.Weight, 1), nh.Flags & unix.RTNH_F_ONLINK}, true
}

// acquire returns the index of an info equal to r, creating it if need be.
func (s *infoStore) acquire(r *Route) uint32 {
	k, ok := keyOf(r)
	if ok {
		if i, hit := s.dedup[k]; hit {
			s.refs[i]++
			return i
		}
	}
	c := *r
	c.Dst, c.TOS = netip.Prefix{}, 0
	c.Nexthops = append([]Nexthop(nil), r.Nexthops...)
	var i uint32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
		s.infos[i], s.refs[i] = &c, 1
	} else {
		s.infos = append(s.infos, &c)
		s.refs = append(s.refs, 1)
		i = uint32(len(s.infos) - 1)
	}
	if ok {
		s.dedup[k] = i
	}
	return i
}

func (s *infoStore) release(i uint32) {
	s.refs[i]--
	if s.refs[i] != 0 {
		return
	}
	if k, ok := keyOf(s.infos[i]); ok && s.dedup[k] == i {
		delete(s.dedup, k)
	}
	s.infos[i] = nil
	s.free = append(s.free, i)
}

// each calls fn for every live info.
func (s *infoStore) each(fn func(i uint32, r *Route)) {
	for i, r := range s.infos {
		if r != nil {
			fn(uint32(i), r)
		}
	}
}

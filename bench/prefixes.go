package bench

import (
	"math/rand/v2"
	"net/netip"
)

// fibSeed seeds the FIB scenario so every stack gets the same prefixes in
// the same order.
const fibSeed = 0x75736e6574 // "usnet"

// RandomPrefixes returns n distinct IPv4 unicast prefixes drawn from a
// seeded source, with a length mix shaped like a BGP table (about half
// /24, the rest spread over /8../23), never inside 0/8, 10/8, 127/8 or
// 224/3. The result is the same for the same n on every run.
func RandomPrefixes(n int) []netip.Prefix {
	r := rand.New(rand.NewPCG(fibSeed, uint64(n)))
	seen := make(map[netip.Prefix]struct{}, n)
	out := make([]netip.Prefix, 0, n)
	for len(out) < n {
		bits := 24
		if r.IntN(100) >= 55 {
			bits = 8 + r.IntN(16)
		}
		v := r.Uint32()
		first := v >> 24
		if first == 0 || first == 10 || first == 127 || first >= 224 {
			continue
		}
		a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		p := netip.PrefixFrom(a, bits).Masked()
		if _, dup := seen[p]; dup {
			continue
		}
		seen[p] = struct{}{}
		out = append(out, p)
	}
	return out
}

// LookupAddrs returns n addresses to look up in a table built from
// prefixes: half fall inside a random one of the prefixes, half are
// uniformly random (mostly misses, which fall to the default route).
func LookupAddrs(prefixes []netip.Prefix, n int) []netip.Addr {
	r := rand.New(rand.NewPCG(fibSeed+1, uint64(n)))
	out := make([]netip.Addr, n)
	for i := range out {
		v := r.Uint32()
		if i%2 == 0 && len(prefixes) > 0 {
			p := prefixes[r.IntN(len(prefixes))]
			b := p.Addr().As4()
			base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			host := v & (1<<(32-p.Bits()) - 1)
			v = base | host
		}
		out[i] = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return out
}

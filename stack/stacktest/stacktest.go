// Package stacktest builds the small topologies tests keep needing: two
// real-time namespaces joined by a veth pair, addressed and up.
package stacktest

import (
	"net/netip"
	"testing"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/stack"
)

// Pair returns namespaces nameA and nameB of a new real-time stack, each
// with loopback up and an "eth0" end of one veth pair, up and holding
// addrA or addrB in a /24. The namespaces are deleted when the test ends.
func Pair(tb testing.TB, nameA, nameB string, addrA, addrB netip.Addr) (a, b *stack.Namespace) {
	tb.Helper()
	st, err := stack.NewRealtime()
	if err != nil {
		tb.Fatal(err)
	}
	if a, err = st.Add(nameA); err != nil {
		tb.Fatal(err)
	}
	if b, err = st.Add(nameB); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Delete(nameA); st.Delete(nameB) })
	da, db, err := veth.Create(veth.End{Table: a.Dev, Name: "eth0"}, veth.End{Table: b.Dev, Name: "eth0"})
	if err != nil {
		tb.Fatal(err)
	}
	for i, ns := range []*stack.Namespace{a, b} {
		d, ip := da, addrA
		if i == 1 {
			d, ip = db, addrB
		}
		ns.Exec().Do(func() {
			ns.Lo.Up()
			d.Up()
			_, err = ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: ip, Prefix: netip.PrefixFrom(ip, 24)})
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return a, b
}

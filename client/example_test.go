package client_test

import (
	"fmt"
	"net/netip"

	"github.com/usnet/usnet/client"
	"github.com/usnet/usnet/rtnl"
	"github.com/usnet/usnet/stack"
)

// Configure a namespace of an in-process stack and read it back; with
// client.Connect(path) the same calls go to a usnet daemon.
func Example() {
	st, err := stack.NewRealtime()
	if err != nil {
		panic(err)
	}
	c := client.InProcess(rtnl.New(st))
	defer c.Close()
	if err := c.AddNamespace("blue"); err != nil {
		panic(err)
	}
	ns := c.Namespace("blue")
	if err := ns.AddLink(client.LinkSpec{Name: "dummy0", Kind: "dummy", Up: true}); err != nil {
		panic(err)
	}
	if err := ns.AddAddr("dummy0", netip.MustParsePrefix("192.0.2.1/24")); err != nil {
		panic(err)
	}
	links, _ := ns.Links()
	for _, l := range links {
		fmt.Println(l.Index, l.Name, l.Kind, l.OperState)
	}
	rt, _ := ns.RouteGet(netip.MustParseAddr("192.0.2.77"), client.RouteGetOptions{})
	fmt.Println("192.0.2.77 dev", rt.Dev, "src", rt.PrefSrc)
	// Output:
	// 1 lo  DOWN
	// 2 dummy0 dummy UNKNOWN
	// 192.0.2.77 dev dummy0 src 192.0.2.1
}

package client

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStreamOperators composes two namespaces' subscriptions: the link
// events of each are filtered to new links named d*, mapped to "ns/name", and
// merged into one stream that carries exactly the links created, each
// namespace's in order; cancelling the context closes every stage.
func TestStreamOperators(t *testing.T) {
	eachMode(t, func(t *testing.T, c *Client) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var streams []<-chan string
		var nss []*Namespace
		for _, name := range []string{"sa", "sb"} {
			ns := newNS(t, c, name)
			nss = append(nss, ns)
			ev, err := ns.Subscribe(ctx, GroupLink)
			must(t, err)
			news := Filter(ctx, ev, func(e Event) bool {
				l, ok := e.(LinkEvent)
				return ok && l.Op == New && strings.HasPrefix(l.Link.Name, "d")
			})
			streams = append(streams, Map(ctx, news, func(e Event) string { return name + "/" + e.(LinkEvent).Link.Name }))
		}
		all := Merge(ctx, streams...)
		for i, ns := range nss {
			for _, d := range []string{"d0", "d1"} {
				must(t, ns.AddLink(LinkSpec{Name: d, Kind: "dummy"}))
				if i == 0 {
					must(t, ns.AddLink(LinkSpec{Name: "x" + d, Kind: "dummy"})) // filtered out
				}
			}
		}
		var got []string
		timeout := time.After(10 * time.Second)
		for len(got) < 4 {
			select {
			case s := <-all:
				got = append(got, s)
			case <-timeout:
				t.Fatalf("merged stream: %q after 10 s", got)
			}
		}
		for _, ns := range []string{"sa", "sb"} {
			var mine []string
			for _, s := range got {
				if strings.HasPrefix(s, ns+"/") {
					mine = append(mine, s)
				}
			}
			if want := []string{ns + "/d0", ns + "/d1"}; !slices.Equal(mine, want) {
				t.Fatalf("%s in the merged stream: %q, want %q (all: %q)", ns, mine, want, got)
			}
		}
		cancel()
		select {
		case _, open := <-all:
			for open {
				_, open = <-all
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the merged stream stayed open after cancel")
		}
	})
}

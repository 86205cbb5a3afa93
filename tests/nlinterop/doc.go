// Package nlinterop shows that third-party Go netlink code talks to usnet
// unmodified: github.com/mdlayher/netlink's Conn, built with
// netlink.NewConn over a Socket that reaches a usnet namespace (in
// process through rtnl, or through the daemon's unix socket), carrying
// github.com/jsimonetti/rtnetlink's message types.
//
// It is its own module so that those packages never become dependencies
// of usnet itself. Run it with:
//
//	cd tests/nlinterop && go test ./...
package nlinterop

// Package netdev is usnet's device core (Linux's net/core/dev.c and
// rtnetlink's view of a link): the Device, the per-namespace device Table,
// the receive path up to protocol demultiplexing, the transmit path down
// to a driver through the queue-discipline slot, NAPI-style batched
// receive, 64-bit statistics, flags and operational state, and the
// notifier chain that tells other layers about device changes.
//
// A device kind is a Driver (package drivers/... holds them). A protocol
// plugs in by registering a handler for its EtherType on a namespace's
// Table (dev_add_pack). Everything here runs on the namespace's executor,
// except NAPI.Enqueue, which any goroutine may call.
package netdev

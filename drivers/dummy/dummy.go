// Package dummy is the dummy device: it accepts every frame and drops it
// (drivers/net/dummy.c), a place to hang addresses and routes.
package dummy

import (
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

type driver struct{}

// New registers a dummy device named name (a %d template is allowed) with
// a random MAC, as `ip link add NAME type dummy` does.
func New(t *netdev.Table, name string) (*netdev.Device, error) {
	return t.Register(netdev.Config{
		Name: name, MTU: 1500, MinMTU: 0, MaxMTU: 0xffff,
		Addr: netdev.RandomMAC(t.Net().Exec().Rand()), Broadcast: netdev.BroadcastMAC,
		Type: netdev.ARPHRDEther, Flags: netdev.FlagBroadcast | netdev.FlagNoARP, TxQueueLen: 1000,
		Features: netdev.Features{TxCsum: true, GSOMaxSize: 65536, GSOMaxSegs: 65535},
	}, driver{}, 0)
}

func (driver) Kind() string                         { return "dummy" }
func (driver) Open(*netdev.Device) error            { return nil }
func (driver) Stop(*netdev.Device)                  {}
func (driver) Uninit(*netdev.Device)                {}
func (driver) Xmit(_ *netdev.Device, bt *skb.Batch) { bt.Free() }

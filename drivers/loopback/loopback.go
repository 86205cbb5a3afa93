// Package loopback is the lo device every namespace has: what is sent on
// it is received on it (drivers/net/loopback.c).
package loopback

import (
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// MTU is Linux's loopback MTU.
const MTU = 65536

type driver struct{ napi *netdev.NAPI }

// New registers lo in t with ifindex 1, down, as a new Linux namespace has
// it. Call on t's executor.
func New(t *netdev.Table) (*netdev.Device, error) {
	drv := &driver{}
	d, err := t.Register(netdev.Config{
		Name: "lo", MTU: MTU, MinMTU: 0, MaxMTU: 1<<31 - 1,
		Type: netdev.ARPHRDLoopback, Flags: netdev.FlagLoopback, TxQueueLen: 1000,
		Features: netdev.Features{RxCsumTrusted: true, TxCsum: true, GSOMaxSize: 65536, GSOMaxSegs: 65535},
	}, drv, 1)
	if err != nil {
		return nil, err
	}
	drv.napi = netdev.NewNAPI(d)
	return d, nil
}

func (*driver) Kind() string                { return "" }
func (*driver) Open(*netdev.Device) error   { return nil }
func (*driver) Stop(*netdev.Device)         {}
func (l *driver) Uninit(*netdev.Device)     { l.napi.Purge() }
func (l *driver) MovedNetns(*netdev.Device) { l.napi.Rebind() }

// Xmit loops every frame back into the receive path, through the NAPI
// queue so that receive never runs inside transmit.
func (l *driver) Xmit(d *netdev.Device, bt *skb.Batch) {
	d.Stats.TxDropped += uint64(l.napi.Enqueue(bt))
}

package arp

import (
	"net/netip"

	"github.com/usnet/usnet/netdev"
)

// SendGratuitous broadcasts a gratuitous ARP request for ip from dev: sender
// and target address ip, target hardware zero (arp_send as
// inetdev_send_gratuitous_arp does). It reports whether the frame went
// to the device; NOARP devices send nothing.
//
// Linux sends these by itself only when a device comes up or changes its
// hardware address with arp_notify set (see devEvent), not when an
// address is added: `ip addr add` is silent, and tools such as arping -U
// announce. The IPv4 layer therefore need not call this on address add;
// it is here for NETDEV_NOTIFY_PEERS-style callers and for tools.
func (a *ARP) SendGratuitous(dev *netdev.Device, ip netip.Addr) bool {
	if !a.send(opRequest, dev, ip, ip, nil, nil) {
		return false
	}
	a.Stats.GratuitousOut++
	return true
}

// announce sends a gratuitous request for each of dev's addresses.
func (a *ARP) announce(dev *netdev.Device) {
	if dev.Flags()&netdev.FlagNoARP != 0 {
		return
	}
	for _, p := range a.addrs.DevAddrs(dev) {
		a.SendGratuitous(dev, p.Addr())
	}
}

// devEvent implements arp_notify (inetdev_event): NETDEV_UP and
// NETDEV_CHANGEADDR announce the device's addresses. A device whose
// carrier comes after the UP event (a veth whose peer comes up later,
// most other drivers) would drop a frame sent at UP, so the announcement
// waits for the device to run; a veth whose peer is up has its carrier
// before NETDEV_UP, as on Linux, and sends it at once.
func (a *ARP) devEvent(ev netdev.Event, dev *netdev.Device) {
	idx := dev.Ifindex()
	switch ev {
	case netdev.EventUp, netdev.EventChangeAddr:
		if !a.addrs.Conf(dev).Notify || !dev.IsUp() {
			return
		}
		if dev.IsRunning() {
			a.announce(dev)
		} else {
			a.pendingNotify[idx] = true
		}
	case netdev.EventChange:
		if a.pendingNotify[idx] && dev.IsRunning() {
			delete(a.pendingNotify, idx)
			a.announce(dev)
		}
	case netdev.EventDown, netdev.EventUnregister:
		delete(a.pendingNotify, idx)
	case netdev.EventNotifyPeers:
		// inetdev_send_gratuitous_arp: regardless of arp_notify.
		if dev.IsRunning() {
			a.announce(dev)
		}
	}
}

package netdev

// SetSlaveFlag sets or clears IFF_SLAVE, which only a bonding master puts
// on its slaves (bond_enslave, __bond_release_one); it is not a flag users
// may set, so it has no place in SetFlags.
func (d *Device) SetSlaveFlag(on bool) {
	nf := d.flags &^ FlagSlave
	if on {
		nf |= FlagSlave
	}
	if nf != d.flags {
		d.flags = nf
		d.table.notify(EventChange, d)
	}
}

// NotifyPeers raises EventNotifyPeers for d (netdev_notify_peers): the
// namespace's ARP sends a gratuitous ARP for each of d's addresses.
func (d *Device) NotifyPeers() { d.table.notify(EventNotifyPeers, d) }

package netdev

// Linux splits a carrier change in two (net/core/link_watch.c):
// netif_carrier_on/off flip the carrier bit at once, so IFF_LOWER_UP
// changes immediately, and queue the device for linkwatch, which later
// recomputes the operational state (rfc2863_policy), and with it
// IFF_RUNNING, and announces the device with NETDEV_CHANGE and an
// RTM_NEWLINK if it is up. Both halves are modelled here: SetCarrier
// does both at once, SetCarrierLinkwatch the first now and the second
// in a run posted to the namespace's executor, which handles the devices
// in the order their events came, as linkwatch's event list does. Every
// driver that reports carrier uses SetCarrierLinkwatch; SetCarrier is
// left for tests.

// SetCarrierLinkwatch sets the carrier now (LOWER_UP, and RUNNING for the
// data path) and leaves the operational state, the RUNNING flag rtnetlink
// reports and the notification to the next linkwatch run
// (netif_carrier_on/off with linkwatch_fire_event). A carrier raised
// inside a request (veth_open raises both ends', a bridge's open its own
// when a port forwards) therefore shows in the request's RTM_NEWLINK as
// LOWER_UP with the old state; devices that follow another one (macvlan,
// vlan, ipvlan on NETDEV_CHANGE, a bridge on its ports') are announced by
// the run after the one that announced the other.
func (d *Device) SetCarrierLinkwatch(on bool) {
	if d.carrier == on {
		return
	}
	d.carrier = on
	d.carrierChanges++
	d.refreshFlags()
	d.FireLinkwatch()
}

// FireLinkwatch queues the device for the next linkwatch run
// (linkwatch_fire_event), which recomputes its operational state and,
// if it is up, raises EventChange, whether or not anything changed, as
// linkwatch_do_dev does. A device already queued is not queued twice.
func (d *Device) FireLinkwatch() {
	if d.lwPending {
		return
	}
	t := d.table
	d.lwPending = true
	t.lw = append(t.lw, d)
	if !t.lwPosted {
		t.lwPosted = true
		t.net.Exec().Post(t.lwRun)
	}
}

// runLinkwatch is __linkwatch_run_queue for the table's devices.
func (t *Table) runLinkwatch() {
	t.lwPosted = false
	list := t.lw
	t.lw = t.lwSpare[:0] // events the notifications raise go to the next run
	defer func() {
		clear(list)
		t.lwSpare = list[:0]
	}()
	for _, d := range list {
		if !d.lwPending || d.table != t {
			continue
		}
		d.lwPending = false
		d.refreshOper()
		if d.IsUp() {
			t.notify(EventChange, d)
		}
	}
}

// forgetLinkwatch drops a device leaving the table from the queue
// (linkwatch_forget_dev).
func (t *Table) forgetLinkwatch(d *Device) {
	if !d.lwPending {
		return
	}
	d.lwPending = false
	for i, o := range t.lw {
		if o == d {
			t.lw = append(t.lw[:i], t.lw[i+1:]...)
			break
		}
	}
}

// refreshOper recomputes the flags and the operational state; it
// reports whether anything changed.
func (d *Device) refreshOper() bool {
	oldF, oldO := d.flags, d.oper
	d.refreshFlags()
	d.rfc2863()
	return oldF != d.flags || oldO != d.oper
}

// refreshFlags recomputes LOWER_UP (the carrier; always on for a device
// that does not report one) and RUNNING, which here means up with
// carrier, what the data path checks. rtnetlink reports RUNNING only
// while the operational state is UP or UNKNOWN (dev_get_flags), and
// neither flag while the device is down.
func (d *Device) refreshFlags() {
	d.flags &^= FlagRunning | FlagLowerUp
	if d.carrier || !d.managesCarrier {
		d.flags |= FlagLowerUp
	}
	if d.IsUp() && d.flags&FlagLowerUp != 0 {
		d.flags |= FlagRunning
	}
}

// rfc2863 is linkwatch's rfc2863_policy: the default state
// (default_operstate; the administrative state plays no part, a down
// device is reported DOWN whatever its state) replaces the current one
// when they differ, a default of UP becoming DORMANT or TESTING under
// those link modes. A state userspace set (SetOperState) thus lasts
// until the next run. A device that never reports carrier keeps its
// state (UNKNOWN, or what userspace set): linkwatch never runs for it.
func (d *Device) rfc2863() {
	var def OperState
	switch {
	case !d.managesCarrier:
		def = d.oper
	case !d.carrier:
		def = d.noCarrierState()
	case d.flags&FlagDormant != 0:
		def = OperDormant
	default:
		def = OperUp
	}
	if def == d.oper {
		return
	}
	switch {
	case def == OperUp && d.linkMode == LinkModeDormant:
		def = OperDormant
	case def == OperUp && d.linkMode == LinkModeTesting:
		def = OperTesting
	}
	d.oper = def
}

// noCarrierState is linkwatch's default_operstate for a device without
// carrier, as Linux 6.18 computes it: LOWERLAYERDOWN only when the device
// found at its IFLA_LINK index *in its own namespace* has no carrier
// either. (So a veth whose peer sits in another namespace under the same
// ifindex reports DOWN, exactly as the kernel does.)
func (d *Device) noCarrierState() OperState {
	if d.link == 0 || d.link == d.ifindex {
		return OperDown
	}
	p := d.table.byIndex[d.link]
	if p == nil || p.carrier {
		return OperDown
	}
	return OperLowerLayerDown
}

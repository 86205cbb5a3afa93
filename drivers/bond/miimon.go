package bond

// miimonTick is bond_mii_monitor: inspect every slave's carrier, move
// it through the up/fail/down/back states with updelay and downdelay,
// commit the changes (failover, transmit array, carrier) and send the
// peer notifications still due.
func (b *Bond) miimonTick() {
	if b.dead || !b.dev.IsUp() {
		return
	}
	changed := false
	for _, s := range b.slaves {
		if b.inspect(s) {
			changed = true
		}
	}
	if changed {
		b.commit()
	}
	if b.shouldNotifyPeers() {
		b.raiseNotifyPeers()
	}
	if b.sendPeerNotif > 0 {
		b.sendPeerNotif--
	}
	if b.p.Miimon > 0 {
		b.mii.Reset(b.p.miiInterval())
	}
}

// inspect is one slave's step of bond_miimon_inspect/commit; it reports
// whether a committed state changed.
func (b *Bond) inspect(s *Slave) bool {
	ok := b.slaveLinkOK(s)
	switch s.link {
	case LinkUp:
		if ok {
			return false
		}
		if b.p.DownDelay > 0 {
			s.link, s.delay = LinkFail, b.p.DownDelay
			return false
		}
		b.linkDown(s)
		return true
	case LinkFail:
		if ok {
			s.link = LinkUp // came back within downdelay
			return false
		}
		if s.delay > 0 {
			s.delay--
		}
		if s.delay == 0 {
			b.linkDown(s)
			return true
		}
	case LinkDown:
		if !ok {
			return false
		}
		if b.p.UpDelay > 0 {
			s.link, s.delay = LinkBack, b.p.UpDelay
			return false
		}
		s.link = LinkUp
		return true
	case LinkBack:
		if !ok {
			s.link = LinkDown
			return false
		}
		if s.delay > 0 {
			s.delay--
		}
		if s.delay == 0 {
			s.link = LinkUp
			return true
		}
	}
	return false
}

func (b *Bond) linkDown(s *Slave) {
	s.link = LinkDown
	s.linkFailureCount++
	if b.p.Mode == ModeActiveBackup && s == b.active {
		s.state = StateBackup
	}
}

// commit applies link changes: a new active slave when needed, the
// 802.3ad port state, the transmit array and the carrier.
func (b *Bond) commit() {
	switch b.p.Mode {
	case ModeActiveBackup:
		b.selectActive()
	case Mode8023AD:
		for _, s := range b.slaves {
			b.ad.linkChanged(s)
		}
	}
	b.updateUsable()
	b.setCarrier()
}

// selectActive is bond_select_active_slave for active-backup: keep the
// primary slave when its link is up and primary_reselect allows (always;
// better and failure keep a working slave, all links being equal here),
// else the current slave while its link is up, else the first slave in
// enslave order whose link is up (slave prio is not used).
func (b *Bond) selectActive() {
	if b.p.Mode != ModeActiveBackup {
		return
	}
	if p := b.primary(); p != nil && p.link == LinkUp && (b.active == nil || b.active.link != LinkUp || b.p.PrimaryReselect == 0) {
		b.changeActive(p)
		return
	}
	if b.active != nil && b.active.link == LinkUp {
		return
	}
	var best *Slave
	for _, s := range b.slaves {
		if s.link == LinkUp {
			best = s
			break
		}
	}
	b.changeActive(best)
}

// changeActive is bond_change_active_slave: the old slave becomes a
// backup, the new one active, and the peers are told num_grat_arp times
// (NETDEV_NOTIFY_PEERS → gratuitous ARP).
func (b *Bond) changeActive(n *Slave) {
	old := b.active
	if old == n {
		return
	}
	if old != nil {
		old.state = StateBackup
	}
	b.active = n
	if n == nil {
		b.updateUsable()
		return
	}
	n.state = StateActive
	b.updateUsable()
	if old != nil {
		b.Stats.Failovers++
	}
	if b.dev.IsUp() {
		b.sendPeerNotif = uint32(b.p.NumPeerNotif) * max(1, b.p.PeerNotifDelay)
		if b.shouldNotifyPeers() {
			b.sendPeerNotif--
			b.raiseNotifyPeers()
		}
	}
}

// shouldNotifyPeers is bond_should_notify_peers: a notification is due
// every peer_notif_delay intervals while the active slave has carrier.
func (b *Bond) shouldNotifyPeers() bool {
	if b.sendPeerNotif == 0 || b.active == nil || !b.active.dev.IsRunning() {
		return false
	}
	return b.sendPeerNotif%max(1, b.p.PeerNotifDelay) == 0
}

func (b *Bond) raiseNotifyPeers() {
	b.Stats.PeerNotifications++
	if b.notifyPeers != nil {
		b.notifyPeers(b.dev)
	}
}

package bond

import (
	"net/netip"
	"syscall"

	"github.com/usnet/usnet/netdev"
)

// Options is a set of option changes (IFLA_INFO_DATA of a newlink or
// changelink). Nil fields are left alone. Apply runs them in the order
// bond_changelink does, with the checks of bond_options.c.
type Options struct {
	Mode            *Mode
	ActiveSlave     *uint32 // ifindex; 0 clears
	Miimon          *uint32 // ms
	UpDelay         *uint32 // ms
	DownDelay       *uint32 // ms
	PeerNotifDelay  *uint32 // ms
	UseCarrier      *uint8
	ARPInterval     *uint32
	ARPValidate     *uint32
	ARPAllTargets   *uint32
	ARPIPTargets    *[]netip.Addr // replaces the list
	Primary         *uint32
	PrimaryReselect *uint8
	FailOverMAC     *uint8
	XmitHashPolicy  *HashPolicy
	ResendIGMP      *uint32
	NumPeerNotif    *uint8
	AllSlavesActive *uint8
	MinLinks        *uint32
	LPInterval      *uint32
	PacketsPerSlave *uint32
	LACPActive      *uint8
	LACPRate        *uint8
	ADSelect        *uint8
	ADActorSysPrio  *uint16
	ADUserPortKey   *uint16
	ADActorSystem   *[6]byte
	TLBDynamicLB    *uint8
	MissedMax       *uint8
	CoupledControl  *uint8
}

// option dependency flags (BOND_OPTFLAG_*).
const (
	optNoSlaves = 1 << iota
	optIfDown
)

// modes are bit sets of Mode.
const (
	onlyAD      = 1 << Mode8023AD
	onlyRR      = 1 << ModeBalanceRR
	onlyTLB     = 1 << ModeBalanceTLB
	withActive  = 1<<ModeActiveBackup | 1<<ModeBalanceTLB | 1<<ModeBalanceALB
	arpModes    = 1<<ModeBalanceRR | 1<<ModeActiveBackup | 1<<ModeBalanceXOR | 1<<ModeBroadcast
	allModes    = 0x7f
	noModeLimit = allModes
)

// checkDeps is bond_opt_check_deps: the modes the option supports, then
// no slaves, then the bond down.
func (b *Bond) checkDeps(modes uint32, flags int) error {
	if modes&(1<<b.p.Mode) == 0 {
		return errMode
	}
	if flags&optNoSlaves != 0 && len(b.slaves) > 0 {
		return errHasSlaves
	}
	if flags&optIfDown != 0 && b.dev.IsUp() {
		return errIsUp
	}
	return nil
}

func inRange[T ~uint8 | ~uint16 | ~uint32](v, lo, hi T) error {
	if v < lo || v > hi {
		return errInval
	}
	return nil
}

// Apply changes the options (bond_changelink). It stops at the first
// error, leaving the changes before it applied, as the kernel does.
func (b *Bond) Apply(o *Options) error {
	if o.Mode != nil {
		if err := b.checkDeps(noModeLimit, optNoSlaves|optIfDown); err != nil {
			return err
		}
		if err := inRange(*o.Mode, ModeBalanceRR, ModeBalanceALB); err != nil {
			return err
		}
		b.setMode(*o.Mode)
	}
	if o.ActiveSlave != nil {
		if err := b.setActiveSlave(*o.ActiveSlave); err != nil {
			return err
		}
	}
	miimonSet := uint32(0)
	if o.Miimon != nil {
		miimonSet = *o.Miimon
		if *o.Miimon > 1<<31-1 {
			return errInval
		}
		b.setMiimon(*o.Miimon)
	}
	for _, d := range []struct {
		v *uint32
		t *uint32
	}{{o.UpDelay, &b.p.UpDelay}, {o.DownDelay, &b.p.DownDelay}, {o.PeerNotifDelay, &b.p.PeerNotifDelay}} {
		if d.v == nil {
			continue
		}
		if b.p.Miimon == 0 {
			return &netdev.ExtError{Errno: syscall.EPERM, Msg: "invalid option value"}
		}
		if *d.v > 300000 && d.t == &b.p.PeerNotifDelay {
			return errInval
		}
		*d.t = *d.v / b.p.Miimon
	}
	if o.UseCarrier != nil {
		if err := inRange(*o.UseCarrier, 0, 1); err != nil {
			return err
		}
		b.p.UseCarrier = *o.UseCarrier
	}
	if o.ARPInterval != nil {
		if *o.ARPInterval != 0 && miimonSet != 0 {
			return &netdev.ExtError{Errno: syscall.EINVAL, Msg: "ARP monitoring cannot be used with MII monitoring"}
		}
		if err := b.checkDeps(arpModes, 0); err != nil {
			return err
		}
		b.p.ARPInterval = *o.ARPInterval
		if b.p.ARPInterval != 0 {
			// ARP monitoring replaces MII monitoring (usnet does not
			// run the ARP monitor: see the package notes).
			b.p.Miimon = 0
			b.mii.Stop()
		}
	}
	if o.ARPIPTargets != nil {
		var l []netip.Addr
		for _, a := range *o.ARPIPTargets {
			if !a.Is4() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || len(l) == BondMaxARPTargets {
				return errInval
			}
			l = append(l, a)
		}
		b.p.ARPTargets = l
	}
	if o.ARPValidate != nil {
		if *o.ARPValidate != 0 && miimonSet != 0 {
			return &netdev.ExtError{Errno: syscall.EINVAL, Msg: "ARP validating cannot be used with MII monitoring"}
		}
		if err := b.checkDeps(arpModes, 0); err != nil {
			return err
		}
		if err := inRange(*o.ARPValidate, 0, 6); err != nil {
			return err
		}
		b.p.ARPValidate = *o.ARPValidate
	}
	if o.ARPAllTargets != nil {
		if err := inRange(*o.ARPAllTargets, 0, 1); err != nil {
			return err
		}
		b.p.ARPAllTargets = *o.ARPAllTargets
	}
	if o.Primary != nil {
		if err := b.checkDeps(withActive, 0); err != nil {
			return err
		}
		b.primaryIdx = int(*o.Primary)
		b.selectActive()
	}
	if o.PrimaryReselect != nil {
		if err := inRange(*o.PrimaryReselect, 0, 2); err != nil {
			return err
		}
		b.p.PrimaryReselect = *o.PrimaryReselect
	}
	if o.FailOverMAC != nil {
		if err := b.checkDeps(noModeLimit, optNoSlaves); err != nil {
			return err
		}
		if err := inRange(*o.FailOverMAC, 0, 2); err != nil {
			return err
		}
		b.p.FailOverMAC = *o.FailOverMAC
	}
	if o.XmitHashPolicy != nil {
		if err := inRange(*o.XmitHashPolicy, HashLayer2, HashVLANSrcMAC); err != nil {
			return err
		}
		b.p.XmitHashPolicy = *o.XmitHashPolicy
	}
	if o.ResendIGMP != nil {
		if err := inRange(*o.ResendIGMP, 0, 255); err != nil {
			return err
		}
		b.p.ResendIGMP = *o.ResendIGMP
	}
	if o.NumPeerNotif != nil {
		b.p.NumPeerNotif = *o.NumPeerNotif
	}
	if o.AllSlavesActive != nil {
		if err := inRange(*o.AllSlavesActive, 0, 1); err != nil {
			return err
		}
		b.p.AllSlavesActive = *o.AllSlavesActive
	}
	if o.MinLinks != nil {
		if *o.MinLinks > 1<<31-1 {
			return errInval
		}
		b.p.MinLinks = *o.MinLinks
		b.setCarrier()
	}
	if o.LPInterval != nil {
		if err := inRange(*o.LPInterval, 1, 1<<31-1); err != nil {
			return err
		}
		b.p.LPInterval = *o.LPInterval
	}
	if o.PacketsPerSlave != nil {
		if err := b.checkDeps(onlyRR, 0); err != nil {
			return err
		}
		if err := inRange(*o.PacketsPerSlave, 0, 65535); err != nil {
			return err
		}
		b.p.PacketsPerSlave = *o.PacketsPerSlave
	}
	if o.LACPActive != nil {
		if err := b.checkDeps(onlyAD, optIfDown); err != nil {
			return err
		}
		if err := inRange(*o.LACPActive, 0, 1); err != nil {
			return err
		}
		b.p.LACPActive = *o.LACPActive
	}
	if o.LACPRate != nil {
		if err := b.checkDeps(onlyAD, optIfDown); err != nil {
			return err
		}
		if err := inRange(*o.LACPRate, 0, 1); err != nil {
			return err
		}
		b.p.LACPFast = *o.LACPRate
		b.ad.rateChanged()
	}
	if o.ADSelect != nil {
		if err := b.checkDeps(onlyAD, optIfDown); err != nil {
			return err
		}
		if err := inRange(*o.ADSelect, 0, 2); err != nil {
			return err
		}
		b.p.ADSelect = *o.ADSelect
	}
	if o.ADActorSysPrio != nil {
		if err := b.checkDeps(onlyAD, optIfDown); err != nil {
			return err
		}
		if err := inRange(*o.ADActorSysPrio, 1, 65535); err != nil {
			return err
		}
		b.p.ADActorSysPrio = *o.ADActorSysPrio
	}
	if o.ADUserPortKey != nil {
		if err := b.checkDeps(onlyAD, optIfDown); err != nil {
			return err
		}
		if err := inRange(*o.ADUserPortKey, 0, 1023); err != nil {
			return err
		}
		b.p.ADUserPortKey = *o.ADUserPortKey
	}
	if o.ADActorSystem != nil {
		if err := b.checkDeps(onlyAD, optIfDown); err != nil {
			return err
		}
		a := *o.ADActorSystem
		if a[0]&1 != 0 || a == ([6]byte{}) {
			return errInval
		}
		b.p.ADActorSystem = a
	}
	if o.TLBDynamicLB != nil {
		if err := b.checkDeps(onlyTLB, optIfDown); err != nil {
			return err
		}
		if err := inRange(*o.TLBDynamicLB, 0, 1); err != nil {
			return err
		}
		b.p.TLBDynamicLB = *o.TLBDynamicLB
	}
	if o.CoupledControl != nil {
		if err := b.checkDeps(onlyAD, optIfDown); err != nil {
			return err
		}
		if err := inRange(*o.CoupledControl, 0, 1); err != nil {
			return err
		}
		b.p.CoupledControl = *o.CoupledControl
	}
	if o.MissedMax != nil {
		if err := inRange(*o.MissedMax, 1, 255); err != nil {
			return err
		}
		b.p.MissedMax = *o.MissedMax
	}
	return nil
}

// setMode is bond_option_mode_set: the modes that cannot use the ARP
// monitor get miimon 100 when it is off.
func (b *Bond) setMode(m Mode) {
	if !m.usesARP() {
		b.p.ARPInterval = 0
		if b.p.Miimon == 0 {
			b.p.Miimon = DefaultMiimon
		}
	}
	b.p.Mode = m
	b.active = nil
}

// setMiimon is bond_option_miimon_set: MII monitoring replaces ARP
// monitoring; the timer starts or stops with the value.
func (b *Bond) setMiimon(v uint32) {
	b.p.Miimon = v
	if v != 0 {
		b.p.ARPInterval = 0
		b.p.ARPValidate = 0
	}
	if b.dev.IsUp() {
		if v != 0 {
			b.mii.Reset(b.p.miiInterval())
		} else {
			b.mii.Stop()
		}
	}
}

// setActiveSlave is bond_option_active_slave_set.
func (b *Bond) setActiveSlave(ifindex uint32) error {
	if err := b.checkDeps(withActive, 0); err != nil {
		return err
	}
	if ifindex == 0 {
		b.active = nil
		b.selectActive()
		return nil
	}
	d := b.dev.Table().ByIndex(int(ifindex))
	if d == nil {
		return &netdev.ExtError{Errno: syscall.ENODEV, Msg: "interface does not exist"}
	}
	s := b.slaveOf(d)
	if s == nil {
		return errInval
	}
	if s == b.active {
		return nil
	}
	if s.link != LinkUp {
		return errInval
	}
	b.changeActive(s)
	return nil
}

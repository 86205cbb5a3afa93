package rtnl

import (
	"errors"
	"syscall"

	"github.com/usnet/usnet/drivers/dummy"
	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

var (
	hNewLink = handlers{doit: newLink, outside: true, hdrLen: unix.SizeofIfInfomsg}
	hSetLink = handlers{doit: setLink, outside: true, hdrLen: unix.SizeofIfInfomsg}
	hDelLink = handlers{doit: delLink, outside: true, hdrLen: unix.SizeofIfInfomsg}
	hGetLink = handlers{doit: getLink, dumpit: dumpLinks, hdrLen: unix.SizeofIfInfomsg}
)

func decodeLink(c *call) (*rtmsg.Link, error) {
	var l rtmsg.Link
	if err := l.UnmarshalBinary(c.data()); err != nil {
		return nil, decodeErr(err, "link request")
	}
	if l.Attrs.Has(unix.IFLA_IFNAME) && len(l.Name) >= unix.IFNAMSIZ {
		return nil, errAttr(syscall.ERANGE, "Attribute failed policy validation",
			netlink.HeaderLen+findAttr(c.data(), c.hdrLen, unix.IFLA_IFNAME))
	}
	return &l, nil
}

// findDev is the lookup of rtnl_setlink/rtnl_dellink: by ifi_index, else
// by IFLA_IFNAME. Executor only.
func findDev(t *netdev.Table, l *rtmsg.Link) *netdev.Device {
	if l.Index > 0 {
		return t.ByIndex(int(l.Index))
	}
	if l.Attrs.Has(unix.IFLA_IFNAME) {
		return t.ByName(l.Name)
	}
	return nil
}

func (c *call) findDev(l *rtmsg.Link) (d *netdev.Device, err error) {
	if l.Index < 0 {
		return nil, syscall.ENODEV
	}
	if !c.do(func() { d = findDev(c.st.ns.Dev, l) }) {
		return nil, syscall.ENODEV
	}
	if d == nil {
		if l.Index == 0 && !l.Attrs.Has(unix.IFLA_IFNAME) {
			return nil, errMsg(syscall.ENODEV, "")
		}
		return nil, syscall.ENODEV
	}
	return d, nil
}

// getLink is rtnl_getlink.
func getLink(c *call) error {
	l, err := decodeLink(c)
	if err != nil {
		return err
	}
	d := findDev(c.st.ns.Dev, l)
	if d == nil {
		if l.Index == 0 && !l.Attrs.Has(unix.IFLA_IFNAME) {
			return errMsg(syscall.EINVAL, "Invalid device name or index")
		}
		return syscall.ENODEV
	}
	c.reply(unix.RTM_NEWLINK, func(e *netlink.AttributeEncoder) { fillLink(e, c.st.ns.IPv4, d, 0, linkState{}) })
	return nil
}

// dumpLinks is rtnl_dump_ifinfo, with the master and kind filters.
func dumpLinks(c *call) error {
	var master uint32
	var kind string
	filtered := false
	if len(c.data()) >= unix.SizeofIfInfomsg {
		l, err := decodeLink(c)
		if err != nil {
			if c.s.strict {
				return err
			}
		} else {
			if c.s.strict {
				if l.Type != 0 || l.Flags != 0 || l.Change != 0 || l.Index != 0 {
					return errMsg(syscall.EINVAL, "Invalid values in header for link dump request")
				}
				known := l.Attrs
				for _, t := range []uint16{unix.IFLA_MASTER, unix.IFLA_LINKINFO} {
					known[t>>6] &^= 1 << (t & 63)
				}
				if known != (rtmsg.AttrSet{}) {
					return errMsg(syscall.EINVAL, "Unsupported attribute in link dump request")
				}
				for _, u := range l.Unknown {
					if u.Type&^unix.NLA_F_NESTED != unix.IFLA_EXT_MASK && u.Type != unix.IFLA_TARGET_NETNSID {
						return errMsg(syscall.EINVAL, "Unsupported attribute in link dump request")
					}
				}
			}
			if l.Attrs.Has(unix.IFLA_MASTER) {
				master, filtered = l.Master, true
			}
			if l.Info != nil && l.Info.Kind != "" {
				kind, filtered = l.Info.Kind, true
			}
		}
	} else if c.s.strict {
		return errMsg(syscall.EINVAL, "Invalid header for link dump")
	}
	if filtered {
		c.s.dump.Flags = unix.NLM_F_DUMP_FILTERED
	}
	for _, d := range c.st.ns.Dev.Devices() {
		if master != 0 && (d.Master() == nil || uint32(d.Master().Ifindex()) != master) {
			continue
		}
		if kind != "" && d.Kind() != kind {
			continue
		}
		c.dumpMsg(unix.RTM_NEWLINK, func(e *netlink.AttributeEncoder) { fillLink(e, c.st.ns.IPv4, d, 0, linkState{}) })
	}
	c.finishDump()
	return nil
}

// targetNS resolves IFLA_NET_NS_PID / IFLA_NET_NS_FD (namespace
// references: netns.Net.ID in usnet) and IFLA_TARGET_NETNSID (an nsid of
// the requester's namespace), as rtnl_link_get_net_capable does. nil: no
// move requested.
func (c *call) targetNS(l *rtmsg.Link) (*stack.Namespace, error) {
	var n *stack.Namespace
	var errno syscall.Errno
	switch {
	case l.Attrs.Has(unix.IFLA_NET_NS_PID):
		n, errno = c.s.srv.nsByRef(l.NetNSPid), syscall.ESRCH
	case l.Attrs.Has(unix.IFLA_NET_NS_FD):
		n, errno = c.s.srv.nsByRef(l.NetNSFD), syscall.EBADF
	default:
		for _, u := range l.Unknown {
			if u.Type&^unix.NLA_F_NESTED == unix.IFLA_TARGET_NETNSID {
				v, err := netlink.Int32(u.Data)
				if err != nil {
					return nil, errMsg(syscall.EINVAL, "Invalid target network namespace id")
				}
				n, errno = c.s.srv.peerOf(c.st.ns.Net.PeerByID(v)), syscall.EINVAL
				goto found
			}
		}
		return nil, nil
	}
found:
	if n == nil {
		return nil, errMsg(errno, "Invalid target network namespace")
	}
	return n, nil
}

// linkNS resolves IFLA_LINK_NETNSID of a new link, an nsid of the
// destination namespace naming where IFLA_LINK's device lives
// (rtnl_newlink's link_net). nil: the requester's namespace.
func (c *call) linkNS(dst *stack.Namespace, l *rtmsg.Link) (*stack.Namespace, error) {
	if !l.Attrs.Has(unix.IFLA_LINK_NETNSID) {
		return nil, nil
	}
	n := c.s.srv.peerOf(dst.Net.PeerByID(l.LinkNetNSID))
	if n == nil {
		return nil, errMsg(syscall.EINVAL, "Unknown network namespace id")
	}
	return n, nil
}

// newLink is rtnl_newlink.
func newLink(c *call) error {
	l, err := decodeLink(c)
	if err != nil {
		return err
	}
	var d *netdev.Device
	if l.Index > 0 || l.Attrs.Has(unix.IFLA_IFNAME) {
		if !c.do(func() { d = findDev(c.st.ns.Dev, l) }) {
			return syscall.ENODEV
		}
	}
	kind := ""
	if l.Info != nil {
		kind = l.Info.Kind
	}
	if d != nil {
		if c.h.Flags&unix.NLM_F_EXCL != 0 {
			return syscall.EEXIST
		}
		if kind != "" && kind != d.Kind() {
			return errMsg(syscall.EOPNOTSUPP, "Device kind does not match")
		}
		// rtnl_changelink: the kind's data first, then do_setlink.
		var err error
		if !c.do(func() { err = changeKind(d, l.Info) }) {
			return syscall.ENODEV
		}
		if err != nil {
			return err
		}
		return c.setLinkDev(d, l, false)
	}
	if c.h.Flags&unix.NLM_F_CREATE == 0 {
		return syscall.ENODEV
	}
	if kind == "" {
		return errMsg(syscall.EOPNOTSUPP, "Unknown device type")
	}
	dst := c.st.ns
	if n, err := c.targetNS(l); err != nil {
		return err
	} else if n != nil {
		dst = n
	}
	if _, err := c.linkNS(dst, l); err != nil {
		return err
	}
	switch kind {
	case "dummy":
		return c.createDummy(dst, l)
	case "veth":
		return c.createVeth(dst, l)
	case "tap", "afpacket":
		return c.createHostLink(dst, l, kind)
	}
	if ops := linkKinds[kind]; ops != nil {
		return c.createKind(dst, l, ops)
	}
	return errMsg(syscall.EOPNOTSUPP, "Unknown device type")
}

// creating brackets device registration by a request: the RTM_NEWLINK of
// a new device goes out once it is configured (rtnl_configure_link).
func (c *call) creating(st *nsState, on bool) {
	f := func() {
		st.creating = on
		if !on {
			st.flushDeferred()
		}
	}
	if st == c.st {
		c.do(f)
	} else {
		st.ns.Exec().Do(f)
	}
}

func (c *call) createDummy(dst *stack.Namespace, l *rtmsg.Link) error {
	st := c.s.srv.state(dst)
	if st == nil {
		return syscall.ENODEV
	}
	name := l.Name
	if name == "" {
		name = "dummy%d"
	}
	if l.Index > 0 {
		return errMsg(syscall.EOPNOTSUPP, "dummy: ifindex cannot be chosen")
	}
	c.creating(st, true)
	defer c.creating(st, false)
	var d *netdev.Device
	var err error
	dst.Exec().Do(func() {
		d, err = dummy.New(dst.Dev, name)
		if err == nil {
			if err = st.configure(d, l, true); err != nil {
				dst.Dev.Unregister(d)
			}
		}
	})
	return err
}

func (c *call) createVeth(dst *stack.Namespace, l *rtmsg.Link) error {
	var peer rtmsg.Link
	if l.Info.Data != nil {
		p, found, err := rtmsg.DecodeVethPeer(l.Info.Data)
		if err != nil {
			return decodeErr(err, "veth peer")
		}
		if found {
			peer = p
		}
	}
	pns := dst
	if n, err := c.targetNS(&peer); err != nil {
		return err
	} else if n != nil {
		pns = n
	}
	st, pst := c.s.srv.state(dst), c.s.srv.state(pns)
	if st == nil || pst == nil {
		return syscall.ENODEV
	}
	for _, x := range []*rtmsg.Link{l, &peer} {
		if x.Attrs.Has(unix.IFLA_MTU) && (x.MTU < 68 || x.MTU > 65535) {
			return errMsg(syscall.EINVAL, "MTU out of range")
		}
		if x.Attrs.Has(unix.IFLA_ADDRESS) && len(x.Address) != 6 {
			return syscall.EINVAL
		}
	}
	end := func(t *netdev.Table, x *rtmsg.Link) veth.End {
		e := veth.End{Table: t, Name: x.Name, Ifindex: int(max(x.Index, 0)), MTU: int(x.MTU)}
		if e.Name == "" {
			e.Name = "veth%d"
		}
		if len(x.Address) == 6 {
			copy(e.Addr[:], x.Address)
		}
		return e
	}
	c.creating(st, true)
	if pst != st {
		c.creating(pst, true)
	}
	// The peer registers first, as veth_newlink does.
	pd, d, err := veth.Create(end(pns.Dev, &peer), end(dst.Dev, l))
	if err == nil {
		pns.Exec().Do(func() { err = pst.configure(pd, &peer, false) })
		if err == nil {
			dst.Exec().Do(func() { err = st.configure(d, l, true) })
		}
		if err != nil {
			dst.Exec().Do(func() { dst.Dev.Unregister(d) })
			pns.Exec().Do(func() { pns.Dev.Unregister(pd) })
		}
	}
	if pst != st {
		c.creating(pst, false)
	}
	c.creating(st, false)
	return err
}

// configure applies the settable attributes of a new device (what
// rtnl_create_link and rtnl_configure_link do). Executor only.
func (st *nsState) configure(d *netdev.Device, l *rtmsg.Link, flags bool) error {
	if flags {
		// rtnl_configure_link gets the request for this device only
		// (not for a veth peer): its RTM_NEWLINK honours NLM_F_ECHO.
		st.created = d
	}
	// rtnl_create_link: the requested operational state and link mode.
	if l.Attrs.Has(unix.IFLA_OPERSTATE) {
		if l.OperState > uint8(netdev.OperUp) {
			return syscall.EINVAL
		}
		d.SetOperState(netdev.OperState(l.OperState))
	}
	if l.Attrs.Has(unix.IFLA_LINKMODE) {
		d.SetLinkMode(l.LinkMode)
	}
	if l.Attrs.Has(unix.IFLA_NUM_TX_QUEUES) || l.Attrs.Has(unix.IFLA_NUM_RX_QUEUES) {
		tx, rx := d.NumTxQueues(), d.NumRxQueues()
		if l.Attrs.Has(unix.IFLA_NUM_TX_QUEUES) {
			tx = int(l.NumTxQueues)
		}
		if l.Attrs.Has(unix.IFLA_NUM_RX_QUEUES) {
			rx = int(l.NumRxQueues)
		}
		if tx < 1 || tx > netdev.MaxQueues {
			return errMsg(syscall.EINVAL, "Invalid number of transmit queues")
		}
		if rx < 1 || rx > netdev.MaxQueues {
			return errMsg(syscall.EINVAL, "Invalid number of receive queues")
		}
		if err := d.SetNumQueues(tx, rx); err != nil {
			return err
		}
	}
	if l.Attrs.Has(unix.IFLA_TXQLEN) {
		if err := d.SetTxQueueLen(int(l.TxQLen)); err != nil {
			return err
		}
	}
	if l.Attrs.Has(unix.IFLA_MTU) {
		if err := d.SetMTU(int(l.MTU)); err != nil {
			return err
		}
	}
	if l.Attrs.Has(unix.IFLA_ADDRESS) {
		if len(l.Address) != 6 {
			return syscall.EINVAL
		}
		if err := d.SetAddr([6]byte(l.Address)); err != nil {
			return err
		}
	}
	if l.Attrs.Has(unix.IFLA_GROUP) {
		d.SetGroup(l.Group)
	}
	if l.Attrs.Has(unix.IFLA_IFALIAS) {
		if err := d.SetAlias(l.Alias); err != nil {
			return err
		}
	}
	if flags && (l.Flags != 0 || l.Change != 0) {
		return st.changeFlags(d, l)
	}
	return nil
}

// changeFlags is dev_change_flags(rtnl_dev_combine_flags). Executor only.
func (st *nsState) changeFlags(d *netdev.Device, l *rtmsg.Link) error {
	f := l.Flags
	if l.Change != 0 {
		f = f&l.Change | ifFlags(d, linkState{})&^l.Change
	}
	if f&unix.IFF_UP != 0 && !d.IsUp() {
		st.pendingUp = d
		defer func() { st.pendingUp = nil }()
	}
	return d.SetFlags(netdev.Flags(f), ^netdev.Flags(0))
}

// setLink is rtnl_setlink.
func setLink(c *call) error {
	l, err := decodeLink(c)
	if err != nil {
		return err
	}
	d, err := c.findDev(l)
	if err != nil {
		return err
	}
	return c.setLinkDev(d, l, true)
}

// setLinkDev is do_setlink: namespace move first, then the attributes in
// the kernel's order, then the flags.
func (c *call) setLinkDev(d *netdev.Device, l *rtmsg.Link, byIndexRename bool) error {
	if n, err := c.targetNS(l); err != nil {
		return err
	} else if n != nil && n != c.st.ns {
		if d.Flags()&netdev.FlagLoopback != 0 {
			return errMsg(syscall.EINVAL, "The device is not allowed to change network namespaces")
		}
		if c.s.srv.state(n) == nil {
			return syscall.ENODEV
		}
		// __dev_change_net_namespace names the new namespace in the old
		// one (IFLA_NEW_NETNSID of the RTM_DELLINK), allocating its id.
		to := moveTo{net: n.Net}
		n.Exec().Do(func() {
			if n.Dev.ByIndex(d.Ifindex()) == nil {
				to.ifindex = d.Ifindex()
			}
		})
		c.do(func() { c.st.moving[d] = to })
		err := netdev.Move(d, n.Dev)
		c.do(func() { delete(c.st.moving, d) })
		if err != nil {
			return err
		}
		// The rest applies in the new namespace.
		n.Exec().Do(func() { err = c.s.srv.state(n).applyLink(d, l, n) })
		return err
	}
	var err error
	if !c.do(func() { err = c.st.applyLink(d, l, c.st.ns) }) {
		return syscall.ENODEV
	}
	return err
}

// applyLink changes d as do_setlink does. Executor only.
func (st *nsState) applyLink(d *netdev.Device, l *rtmsg.Link, ns *stack.Namespace) error {
	if ns.Dev.ByIndex(d.Ifindex()) != d {
		return syscall.ENODEV
	}
	af, err := parseLinkAF(l.AFSpec) // validate_linkmsg
	if err == nil {
		err = af.validate()
	}
	if err != nil {
		return err
	}
	if l.Attrs.Has(unix.IFLA_OPERSTATE) && l.OperState > uint8(netdev.OperUp) {
		return syscall.EINVAL
	}
	if l.Attrs.Has(unix.IFLA_ADDRESS) {
		if len(l.Address) < 6 {
			return errMsg(syscall.EINVAL, "")
		}
		if err := d.SetAddr([6]byte(l.Address[:6])); err != nil {
			return err
		}
	}
	if l.Attrs.Has(unix.IFLA_MTU) {
		if err := d.SetMTU(int(l.MTU)); err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) && errno == syscall.EINVAL {
				// dev_validate_mtu's messages; a driver's own refusal
				// (ndo_change_mtu) carries none.
				if int(l.MTU) < d.MinMTU() {
					return errMsg(syscall.EINVAL, "mtu less than device minimum")
				}
				if int(l.MTU) > d.MaxMTU() {
					return errMsg(syscall.EINVAL, "mtu greater than device maximum")
				}
			}
			return err
		}
	}
	if l.Attrs.Has(unix.IFLA_GROUP) {
		d.SetGroup(l.Group)
	}
	if l.Index > 0 && l.Attrs.Has(unix.IFLA_IFNAME) && l.Name != d.Name() {
		if err := ns.Dev.Rename(d, l.Name); err != nil {
			return err
		}
	}
	if l.Attrs.Has(unix.IFLA_IFALIAS) {
		if err := d.SetAlias(l.Alias); err != nil {
			return err
		}
	}
	if l.Attrs.Has(unix.IFLA_MASTER) {
		var err error
		if l.Master != 0 {
			err = enslave(ns.Dev, d, l.Master)
		} else {
			err = release(d)
		}
		if err != nil {
			return err
		}
	}
	if l.Flags != 0 || l.Change != 0 {
		if err := st.changeFlags(d, l); err != nil {
			return err
		}
	}
	if l.Attrs.Has(unix.IFLA_TXQLEN) {
		if err := d.SetTxQueueLen(int(l.TxQLen)); err != nil {
			return err
		}
	}
	// set_operstate, then the link mode, whose change is announced
	// once the rest is applied (DO_SETLINK_NOTIFY).
	if l.Attrs.Has(unix.IFLA_OPERSTATE) {
		d.SetOperState(netdev.OperState(l.OperState))
	}
	modeChanged := l.Attrs.Has(unix.IFLA_LINKMODE) && d.SetLinkMode(l.LinkMode)
	if err := af.apply(d); err != nil {
		return err
	}
	if modeChanged {
		d.StateChange()
	}
	return nil
}

// delLink is rtnl_dellink: the device and, for a veth, its peer.
func delLink(c *call) error {
	l, err := decodeLink(c)
	if err != nil {
		return err
	}
	d, err := c.findDev(l)
	if err != nil {
		return err
	}
	if d.Flags()&netdev.FlagLoopback != 0 || d.Kind() == "" {
		return syscall.EOPNOTSUPP // lo cannot be deleted
	}
	var peer *netdev.Device
	if d.Kind() == "veth" {
		peer = veth.Peer(d)
	}
	var pst *nsState
	var pns *stack.Namespace
	if peer != nil {
		pt := peer.Table()
		for _, n := range c.s.srv.st.List() {
			if n.Dev == pt {
				pns = n
			}
		}
		if pns != nil {
			pst = c.s.srv.state(pns)
		}
	}
	// unregister_netdevice_many: close all, then unregister each. A
	// veth pair is unlinked first (veth_dellink), so neither end's
	// RTM_DELLINK names the other.
	c.do(func() {
		c.st.deleting[d] = true
		d.Down()
		release(d) // rollback_registered: a port leaves its master
		if peer != nil {
			if pst != nil {
				veth.Unpair(d) // each end is unregistered below, in its namespace
			}
			d.SetLink(0, nil)
		}
	})
	if pst != nil {
		pns.Exec().Do(func() {
			pst.deleting[peer] = true
			peer.Down()
			peer.SetLink(0, nil)
		})
	}
	c.do(func() { c.st.ns.Dev.Unregister(d) })
	switch {
	case pst == c.st:
		c.do(func() { pns.Dev.Unregister(peer) }) // its RTM_DELLINK answers the request too
	case pst != nil:
		pns.Exec().Do(func() {
			pst.cur = c.remoteCtx()
			pns.Dev.Unregister(peer)
			pst.cur = nil
		})
	}
	return nil
}

// remoteCtx is the request as a namespace other than the requester's
// sees it: unregister_netdevice_many_notify names the requester (port id,
// sequence, NLM_F_ECHO) in the RTM_DELLINK of every device it deletes,
// and nlmsg_notify then unicasts the echo to that port id in the
// device's namespace, never the requester's. usnet's port ids are unique
// across namespaces, so no socket there owns it: the message carries the
// requester's port id and sequence and goes to the group alone.
func (c *call) remoteCtx() *reqCtx {
	return &reqCtx{typ: c.h.Type, seq: c.h.Seq, pid: c.s.port, flags: c.h.Flags}
}

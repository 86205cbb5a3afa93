package rtnl

import (
	"maps"
	"slices"
	"syscall"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

// linkOps is rtnl_link_ops: what RTM_NEWLINK, RTM_SETLINK and link dumps
// need to know about a device kind beyond the generic attributes. The
// kinds that live in their own files (kind_*.go) register one with
// registerLinkKind from an init function; the table is fixed once the
// program starts, so it is configuration, not state.
//
// Every function runs on the executor of the namespace that holds the
// device, except where noted.
type linkOps struct {
	// initNet prepares a namespace for the kind when rtnl starts serving
	// it (the kind's pernet_operations init), on its executor; nil: none.
	initNet func(ns *stack.Namespace)
	// defaultName is the name pattern of a device created without
	// IFLA_IFNAME ("br%d").
	defaultName string
	// newLink creates and registers the device in t (newlink): name is
	// the final name pattern, l the request (IFLA_INFO_DATA in
	// l.Info.Data, may be nil), lower the device IFLA_LINK names in the
	// requester's namespace or the one IFLA_LINK_NETNSID names (nil when
	// absent). The generic attributes
	// (MTU, address, flags …) are applied afterwards by rtnl.
	newLink func(t *netdev.Table, name string, l *rtmsg.Link, lower *netdev.Device) (*netdev.Device, error)
	// changeLink applies IFLA_INFO_DATA to an existing device
	// (changelink); nil: the kind has nothing to change (EOPNOTSUPP when
	// data is given).
	changeLink func(d *netdev.Device, data []byte) error
	// fillData appends IFLA_INFO_DATA's attributes for d (fill_info);
	// rtnl opens and closes the nest. nil: no IFLA_INFO_DATA.
	fillData func(e *netlink.AttributeEncoder, d *netdev.Device)
	// A master kind (bridge, bond) enslaves and releases ports on
	// IFLA_MASTER (ndo_add_slave, ndo_del_slave).
	addSlave func(master, port *netdev.Device) error
	delSlave func(master, port *netdev.Device) error
	// slaveKind is IFLA_INFO_SLAVE_KIND of this master's ports
	// ("bridge", "bond"); fillSlaveData appends IFLA_INFO_SLAVE_DATA's
	// attributes for a port; changeSlave applies a port's
	// IFLA_INFO_SLAVE_DATA (slave_changelink).
	slaveKind     string
	fillSlaveData func(e *netlink.AttributeEncoder, master, port *netdev.Device)
	changeSlave   func(master, port *netdev.Device, data []byte) error
}

var linkKinds = map[string]*linkOps{}

// initKinds runs every kind's initNet for ns. Executor of ns.
// Kinds run in name order: an init that draws from the executor's random
// source must do so in the same order every run.
func initKinds(ns *stack.Namespace) {
	for _, k := range slices.Sorted(maps.Keys(linkKinds)) {
		if ops := linkKinds[k]; ops.initNet != nil {
			ops.initNet(ns)
		}
	}
}

// registerLinkKind adds a device kind; it is called from init functions.
func registerLinkKind(kind string, ops *linkOps) {
	if _, dup := linkKinds[kind]; dup {
		panic("rtnl: link kind registered twice: " + kind)
	}
	linkKinds[kind] = ops
}

// familyKey selects handlers by message type and family.
type familyKey struct {
	typ    uint16
	family uint8
}

var familyHandlers = map[familyKey]*handlers{}

// registerFamilyHandlers installs the handlers of a message type for one
// address family (the kernel's rtnl_register(PF_BRIDGE, …)); they run on
// the namespace's executor. Called from init functions.
func registerFamilyHandlers(typ uint16, family uint8, h *handlers) {
	k := familyKey{typ, family}
	if _, dup := familyHandlers[k]; dup {
		panic("rtnl: family handlers registered twice")
	}
	familyHandlers[k] = h
}

// createKind is the newlink path of a registered kind.
func (c *call) createKind(dst *stack.Namespace, l *rtmsg.Link, ops *linkOps) error {
	st := c.s.srv.state(dst)
	if st == nil {
		return syscall.ENODEV
	}
	if l.Index > 0 {
		return errMsg(syscall.EOPNOTSUPP, "ifindex cannot be chosen for this kind")
	}
	name := l.Name
	if name == "" {
		name = ops.defaultName
	}
	var lower *netdev.Device
	if l.Attrs.Has(unix.IFLA_LINK) {
		lns, err := c.linkNS(dst, l)
		if err != nil {
			return err
		}
		if lns == nil || lns == c.st.ns {
			if !c.do(func() { lower = c.st.ns.Dev.ByIndex(int(l.Link)) }) {
				return syscall.ENODEV
			}
		} else {
			lns.Exec().Do(func() { lower = lns.Dev.ByIndex(int(l.Link)) })
		}
		if lower == nil {
			return syscall.ENODEV
		}
	}
	c.creating(st, true)
	defer c.creating(st, false)
	var err error
	dst.Exec().Do(func() {
		var d *netdev.Device
		d, err = ops.newLink(dst.Dev, name, l, lower)
		if err != nil {
			return
		}
		if err = st.configure(d, l, true); err != nil {
			dst.Dev.Unregister(d)
			return
		}
		if l.Attrs.Has(unix.IFLA_MASTER) && l.Master != 0 {
			if err = enslave(dst.Dev, d, l.Master); err != nil {
				dst.Dev.Unregister(d)
			}
		}
	})
	return err
}

// enslave is do_set_master: release d from its current master, then hand
// it to the master with ifindex m. Executor only.
func enslave(t *netdev.Table, d *netdev.Device, m uint32) error {
	md := t.ByIndex(int(m))
	if md == nil {
		return syscall.EINVAL
	}
	if cur := d.Master(); cur == md {
		return nil
	}
	if err := release(d); err != nil {
		return err
	}
	ops := linkKinds[md.Kind()]
	if ops == nil || ops.addSlave == nil {
		return errMsg(syscall.EOPNOTSUPP, "Device does not support enslaving")
	}
	return ops.addSlave(md, d)
}

// release detaches d from its master, if any. Executor only.
func release(d *netdev.Device) error {
	cur := d.Master()
	if cur == nil {
		return nil
	}
	if ops := linkKinds[cur.Kind()]; ops != nil && ops.delSlave != nil {
		return ops.delSlave(cur, d)
	}
	d.SetMaster(nil)
	return nil
}

// changeKind applies IFLA_INFO_DATA and IFLA_INFO_SLAVE_DATA of a request
// to an existing device. Executor only.
func changeKind(d *netdev.Device, info *rtmsg.LinkInfo) error {
	if info == nil {
		return nil
	}
	if info.Data != nil {
		ops := linkKinds[d.Kind()]
		if ops == nil || ops.changeLink == nil {
			return syscall.EOPNOTSUPP
		}
		if err := ops.changeLink(d, info.Data); err != nil {
			return err
		}
	}
	if info.SlaveData != nil {
		m := d.Master()
		if m == nil {
			return syscall.EOPNOTSUPP
		}
		ops := linkKinds[m.Kind()]
		if ops == nil || ops.changeSlave == nil {
			return syscall.EOPNOTSUPP
		}
		return ops.changeSlave(m, d, info.SlaveData)
	}
	return nil
}

// fillLinkInfo appends IFLA_LINKINFO (rtnl_link_fill): kind and data of
// the device, then the slave kind and data of its port, if it is one.
func fillLinkInfo(e *netlink.AttributeEncoder, d *netdev.Device) {
	k := d.Kind()
	var mops *linkOps
	if m := d.Master(); m != nil {
		mops = linkKinds[m.Kind()]
	}
	hasSlave := mops != nil && mops.slaveKind != ""
	if k == "" && !hasSlave {
		return
	}
	li := e.BeginNest(unix.IFLA_LINKINFO)
	if k != "" {
		e.String(unix.IFLA_INFO_KIND, k)
		if ops := linkKinds[k]; ops != nil && ops.fillData != nil {
			n := e.BeginNest(unix.IFLA_INFO_DATA)
			ops.fillData(e, d)
			e.EndNest(n)
		}
	}
	if hasSlave {
		e.String(unix.IFLA_INFO_SLAVE_KIND, mops.slaveKind)
		if mops.fillSlaveData != nil {
			n := e.BeginNest(unix.IFLA_INFO_SLAVE_DATA)
			mops.fillSlaveData(e, d.Master(), d)
			e.EndNest(n)
		}
	}
	e.EndNest(li)
}

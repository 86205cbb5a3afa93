package rtnl

import (
	"errors"
	"syscall"

	"github.com/usnet/usnet/drivers/afpacket"
	"github.com/usnet/usnet/drivers/tap"
	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/stack"
)

// createHostLink makes a device backed by the host: a TAP interface
// (kind tap) or a packet socket on a host interface (kind afpacket).
// The host side is opened outside the executor; the device is registered
// on it.
func (c *call) createHostLink(dst *stack.Namespace, l *rtmsg.Link, kind string) error {
	st := c.s.srv.state(dst)
	if st == nil {
		return syscall.ENODEV
	}
	var h rtmsg.HostLink
	if l.Info != nil && l.Info.Data != nil {
		var err error
		if h, err = rtmsg.DecodeHostLink(l.Info.Data); err != nil {
			return decodeErr(err, kind)
		}
	}
	if l.Name == "" {
		return errMsg(syscall.EINVAL, "a name is required")
	}
	var port framedio.Port
	var err error
	switch kind {
	case "tap":
		if h.Ifname == "" {
			h.Ifname = l.Name
		}
		port, err = tap.Open(h.Ifname, h.Netns)
	case "afpacket":
		if h.Ifname == "" {
			return errMsg(syscall.EINVAL, "afpacket needs a host interface (dev HOSTIF)")
		}
		mode := afpacket.Shared
		if h.Exclusive {
			mode = afpacket.Exclusive
		}
		cfg := afpacket.Config{HostIf: h.Ifname, Mode: mode}
		if h.Netns != "" {
			err = framedio.InNetns(h.Netns, func() error {
				p, err := afpacket.Open(cfg)
				port = p
				return err
			})
		} else {
			port, err = afpacket.Open(cfg)
		}
	}
	if err != nil {
		return errMsg(errnoOf(err), "cannot open the host side: "+err.Error())
	}
	c.creating(st, true)
	defer c.creating(st, false)
	d, err := framedio.NewDevice(dst.Dev, l.Name, port)
	if err != nil {
		port.Close()
		return err
	}
	dst.Exec().Do(func() {
		if err = st.configure(d, l, true); err != nil {
			dst.Dev.Unregister(d)
		}
	})
	return err
}

// errnoOf extracts the errno of err (EIO when it has none).
func errnoOf(err error) syscall.Errno {
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return syscall.EIO
}

package rtnl

import (
	"errors"
	"syscall"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/netns"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

// Peer namespace ids (net/core/net_namespace.c): RTM_NEWNSID gives a
// peer an id in the requester's namespace, RTM_GETNSID asks for one or
// dumps the table, and every change is announced on RTNLGRP_NSID. The
// tables themselves are package netns's (Net.PeerID and friends).

var (
	hNewNsid = handlers{doit: newNsid, hdrLen: 1}
	hGetNsid = handlers{doit: getNsid, dumpit: dumpNsid, hdrLen: 1}
)

// nsByRef resolves a namespace reference (NETNSA_PID/FD, IFLA_NET_NS_PID/FD):
// in usnet, the namespace's process-wide number netns.Net.ID.
func (srv *Server) nsByRef(ref uint32) *stack.Namespace { return srv.nsByID(ref) }

// peerOf maps a namespace of the stack's world to its stack.Namespace
// (nil when it is gone).
func (srv *Server) peerOf(n *netns.Net) *stack.Namespace {
	if n == nil {
		return nil
	}
	return srv.st.Of(n)
}

func decodeNsid(c *call) (*rtmsg.Nsid, error) {
	var m rtmsg.Nsid
	if err := m.UnmarshalBinary(c.data()); err != nil {
		return nil, decodeErr(err, "nsid request")
	}
	return &m, nil
}

// peerRef resolves NETNSA_PID or NETNSA_FD (and NETNSA_NSID when byID is
// set) to the peer namespace, as rtnl_net_newid and rtnl_net_getid do.
func (c *call) peerRef(m *rtmsg.Nsid, byID bool) (*netns.Net, error) {
	var (
		peer  *netns.Net
		attr  uint16
		errno syscall.Errno
	)
	switch {
	case m.Attrs.Has(unix.NETNSA_PID):
		attr, errno = unix.NETNSA_PID, syscall.ESRCH // get_net_ns_by_pid
		if n := c.s.srv.nsByRef(m.PID); n != nil {
			peer = n.Net
		}
	case m.Attrs.Has(unix.NETNSA_FD):
		attr, errno = unix.NETNSA_FD, syscall.EBADF // proc_ns_fget
		if n := c.s.srv.nsByRef(m.FD); n != nil {
			peer = n.Net
		}
	case byID && m.Attrs.Has(unix.NETNSA_NSID):
		attr, errno = unix.NETNSA_NSID, syscall.ENOENT
		peer = c.st.ns.Net.PeerByID(m.NSID)
	default:
		return nil, errMsg(syscall.EINVAL, "Peer netns reference is missing")
	}
	if peer == nil || peer.Dead() {
		return nil, errAttr(errno, "Peer netns reference is invalid", netlink.HeaderLen+findAttr(c.data(), c.hdrLen, attr))
	}
	return peer, nil
}

// newNsid is rtnl_net_newid: `ip netns set NAME NSID` (a negative NSID
// lets the kernel choose).
func newNsid(c *call) error {
	m, err := decodeNsid(c)
	if err != nil {
		return err
	}
	if !m.Attrs.Has(unix.NETNSA_NSID) {
		return errMsg(syscall.EINVAL, "nsid is missing")
	}
	peer, err := c.peerRef(m, false)
	if err != nil {
		return err
	}
	refAttr := uint16(unix.NETNSA_PID)
	if !m.Attrs.Has(unix.NETNSA_PID) {
		refAttr = unix.NETNSA_FD
	}
	_, err = c.st.ns.Net.AllocPeerID(peer, m.NSID, c.st.cur)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, netns.ErrPeerHasID):
		return errAttr(syscall.EEXIST, "Peer netns already has a nsid assigned",
			netlink.HeaderLen+findAttr(c.data(), c.hdrLen, refAttr))
	case errors.Is(err, netns.ErrIDUsed):
		return errAttr(syscall.EEXIST, "The specified nsid is already used",
			netlink.HeaderLen+findAttr(c.data(), c.hdrLen, unix.NETNSA_NSID))
	}
	return err
}

// getNsid is rtnl_net_getid: the id the requester's namespace (or, with
// NETNSA_TARGET_NSID, the namespace it calls so) gives a peer.
func getNsid(c *call) error {
	m, err := decodeNsid(c)
	if err != nil {
		return err
	}
	if c.s.strict { // rtnl_net_valid_getid_req
		if len(m.Unknown) > 0 || m.Attrs.Has(unix.NETNSA_CURRENT_NSID) {
			return errMsg(syscall.EINVAL, "Unsupported attribute in peer netns getid request")
		}
	}
	peer, err := c.peerRef(m, true)
	if err != nil {
		return err
	}
	self := c.st.ns.Net
	target := self
	out := rtmsg.Nsid{Family: unix.AF_UNSPEC}
	if m.Attrs.Has(unix.NETNSA_TARGET_NSID) {
		if target = self.PeerByID(m.TargetNSID); target == nil {
			return errAttr(syscall.EINVAL, "Target netns reference is invalid",
				netlink.HeaderLen+findAttr(c.data(), c.hdrLen, unix.NETNSA_TARGET_NSID))
		}
		out.CurrentNSID = self.PeerID(peer)
		out.Attrs.Set(unix.NETNSA_CURRENT_NSID)
	}
	out.NSID = target.PeerID(peer)
	out.Attrs.Set(unix.NETNSA_NSID)
	c.reply(unix.RTM_NEWNSID, out.Encode)
	return nil
}

// dumpNsid is rtnl_net_dumpid: the table in id order. Only strict
// checking looks at the request's attributes (rtnl_valid_dump_net_req):
// NETNSA_TARGET_NSID then dumps that namespace's table, with each peer's
// id in the requester's namespace as NETNSA_CURRENT_NSID.
func dumpNsid(c *call) error {
	self := c.st.ns.Net
	target := self
	addRef := false
	if c.s.strict {
		var err error
		if target, addRef, err = validNsidDump(c); err != nil {
			// The kernel fails a dump in its first pass: NLMSG_DONE
			// carries the error, with the message but no offset.
			errno, ext := toErrno(err)
			msg := ""
			if ext != nil {
				msg = ext.Msg
			}
			c.s.dump.Finish(-int32(errno), msg)
			return nil
		}
	}
	for _, p := range target.PeerIDs() {
		out := rtmsg.Nsid{Family: unix.AF_UNSPEC, NSID: p.ID}
		out.Attrs.Set(unix.NETNSA_NSID)
		if addRef {
			out.CurrentNSID = self.PeerID(p.Peer)
			out.Attrs.Set(unix.NETNSA_CURRENT_NSID)
		}
		c.dumpMsg(unix.RTM_NEWNSID, out.Encode)
	}
	c.finishDump()
	return nil
}

// validNsidDump is rtnl_valid_dump_net_req: only NETNSA_TARGET_NSID, and
// it must name a peer.
func validNsidDump(c *call) (target *netns.Net, addRef bool, err error) {
	self := c.st.ns.Net
	target = self
	m, err := decodeNsid(c)
	if err != nil {
		return nil, false, err
	}
	for t := uint16(0); t <= unix.NETNSA_CURRENT_NSID; t++ {
		if !m.Attrs.Has(t) {
			continue
		}
		off := netlink.HeaderLen + findAttr(c.data(), c.hdrLen, t)
		if t != unix.NETNSA_TARGET_NSID {
			return nil, false, errAttr(syscall.EINVAL, "Unsupported attribute in dump request", off)
		}
		if target = self.PeerByID(m.TargetNSID); target == nil {
			return nil, false, errAttr(syscall.EINVAL, "Invalid target network namespace id", off)
		}
		addRef = true
	}
	if len(m.Unknown) > 0 {
		return nil, false, errMsg(syscall.EINVAL, "Unsupported attribute in dump request")
	}
	return target, addRef, nil
}

// idEvent hears every change of a peer id table (netns.World.SubscribeIDs)
// and announces it in the namespace whose table changed
// (rtnl_net_notifyid). It may run on any goroutine: only the request
// context an explicit RTM_NEWNSID passes in the event is used, never
// the executor-only state.
func (srv *Server) idEvent(ev netns.IDEvent) {
	srv.mu.Lock()
	st := srv.nss[ev.Net]
	srv.mu.Unlock()
	if st == nil {
		return // nobody listens there
	}
	h := netlink.Header{Type: unix.RTM_NEWNSID}
	if ev.Deleted {
		h.Type = unix.RTM_DELNSID
	}
	var echo *Socket
	if r, ok := ev.Req.(*reqCtx); ok && r != nil {
		h.Pid, h.Seq = r.pid, r.seq
		if r.flags&unix.NLM_F_ECHO != 0 {
			echo = r.sock
		}
	}
	m := rtmsg.Nsid{Family: unix.AF_UNSPEC, NSID: ev.ID}
	m.Attrs.Set(unix.NETNSA_NSID)
	// Not st.enc: an id allocated while a link message is being filled
	// is announced from inside that fill.
	e := netlink.NewAttributeEncoder(make([]byte, 0, 32))
	start := e.BeginMessage(h)
	m.Encode(e)
	e.EndMessage(start)
	bit := uint64(1) << unix.RTNLGRP_NSID
	st.mu.Lock()
	for _, s := range st.socks {
		if s.groups&bit != 0 && s != echo {
			s.enqueue(e.Bytes())
		}
	}
	st.mu.Unlock()
	if echo != nil {
		echo.enqueue(e.Bytes())
	}
}

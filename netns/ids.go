package netns

import (
	"fmt"
	"sort"
	"sync"
	"syscall"
)

// Peer ids (nsids). Linux gives every namespace its own numbering of the
// other namespaces it has to name (struct net.netns_ids): link messages
// say in which namespace a veth's peer lives as an id valid in the
// namespace of the reader (IFLA_LINK_NETNSID), and `ip netns set`
// chooses one explicitly (RTM_NEWNSID). An id is allocated on demand,
// the lowest free one from 0, and dropped when the peer namespace goes.
// Net.ID, by contrast, is one number per namespace for the whole process.

// NSIDNotAssigned is what a lookup answers for a peer without an id
// (NETNSA_NSID_NOT_ASSIGNED).
const NSIDNotAssigned = -1

// MaxPeerIDs bounds one namespace's table. Linux's is an IDR bounded only
// by the number of namespaces; a usnet process has far fewer than this.
const MaxPeerIDs = 4096

// IDEvent reports a change to a namespace's peer id table: Net gave Peer
// the id ID (Deleted false) or dropped it because Peer is being deleted.
// Req is what the caller of AllocPeerID passed (a request context of the
// rtnetlink server, to name the requester in its notification); nil for
// ids allocated on demand and for deletions.
type IDEvent struct {
	Net, Peer *Net
	ID        int32
	Deleted   bool
	Req       any
}

// peerIDs is struct net's netns_ids with its nsid_lock: the table is read
// and changed from any goroutine (a link dump allocates in its own
// namespace, RTM_GETNSID reads another's, deletion clears all tables).
type peerIDs struct {
	mu    sync.Mutex
	byID  map[int32]*Net
	byNet map[*Net]int32
}

// PeerID returns the id n gives peer, or NSIDNotAssigned (peernet2id).
func (n *Net) PeerID(peer *Net) int32 {
	n.ids.mu.Lock()
	defer n.ids.mu.Unlock()
	if id, ok := n.ids.byNet[peer]; ok {
		return id
	}
	return NSIDNotAssigned
}

// PeerByID returns the namespace n calls id, or nil (get_net_ns_by_id).
func (n *Net) PeerByID(id int32) *Net {
	if id < 0 {
		return nil
	}
	n.ids.mu.Lock()
	defer n.ids.mu.Unlock()
	return n.ids.byID[id]
}

// PeerIDAlloc returns the id n gives peer, allocating the lowest free one
// if it has none (peernet2id_alloc); a new id is reported to the world's
// id subscribers. It answers NSIDNotAssigned when either namespace is
// being deleted or the table is full.
func (n *Net) PeerIDAlloc(peer *Net) int32 {
	id, created := n.allocPeerID(peer, -1)
	if created {
		n.world.notifyIDs(IDEvent{Net: n, Peer: peer, ID: id})
	}
	return id
}

// AllocPeerID gives peer the id want in n, or the lowest free id when
// want is negative, as RTM_NEWNSID does (rtnl_net_newid). Errors:
// EEXIST (ErrPeerHasID) when peer already has an id, EEXIST (ErrIDUsed)
// when want is taken, ENOSPC when the table is full, ENOENT when either
// namespace is being deleted. The new id is reported to the subscribers
// with req.
func (n *Net) AllocPeerID(peer *Net, want int32, req any) (int32, error) {
	n.ids.mu.Lock()
	_, has := n.ids.byNet[peer]
	n.ids.mu.Unlock()
	if has {
		return NSIDNotAssigned, ErrPeerHasID
	}
	id, created := n.allocPeerID(peer, want)
	if !created {
		switch {
		case id >= 0:
			return NSIDNotAssigned, ErrPeerHasID // raced with another allocation
		case n.dying.Load() || peer.dying.Load():
			return NSIDNotAssigned, fmt.Errorf("netns: %q is being deleted: %w", peer.name, syscall.ENOENT)
		case want >= 0 && n.PeerByID(want) != nil:
			return NSIDNotAssigned, ErrIDUsed
		default:
			return NSIDNotAssigned, fmt.Errorf("netns: %q has %d peer ids: %w", n.name, MaxPeerIDs, syscall.ENOSPC)
		}
	}
	n.world.notifyIDs(IDEvent{Net: n, Peer: peer, ID: id, Req: req})
	return id, nil
}

// Errors of AllocPeerID that rtnetlink reports with their own messages.
var (
	ErrPeerHasID = fmt.Errorf("netns: peer already has an id: %w", syscall.EEXIST)
	ErrIDUsed    = fmt.Errorf("netns: id already used: %w", syscall.EEXIST)
)

// allocPeerID looks peer up and, if it has no id, allocates want (or the
// lowest free id when want < 0). created reports whether an id was
// allocated; an existing id is returned with created false.
func (n *Net) allocPeerID(peer *Net, want int32) (id int32, created bool) {
	t := &n.ids
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.byNet[peer]; ok {
		return id, false
	}
	// A namespace being deleted is never hashed back in after
	// World.Delete has cleared it from this table (maybe_get_net).
	if n.dying.Load() || peer.dying.Load() || len(t.byID) >= MaxPeerIDs {
		return NSIDNotAssigned, false
	}
	if want >= 0 {
		if t.byID[want] != nil {
			return NSIDNotAssigned, false
		}
		id = want
	} else {
		for id = 0; t.byID[id] != nil; id++ {
		}
	}
	if t.byID == nil {
		t.byID, t.byNet = map[int32]*Net{}, map[*Net]int32{}
	}
	t.byID[id], t.byNet[peer] = peer, id
	return id, true
}

// PeerIDs returns n's table as (id, peer) pairs in id order, the order
// of an RTM_GETNSID dump.
func (n *Net) PeerIDs() []PeerIDEntry {
	n.ids.mu.Lock()
	l := make([]PeerIDEntry, 0, len(n.ids.byID))
	for id, p := range n.ids.byID {
		l = append(l, PeerIDEntry{ID: id, Peer: p})
	}
	n.ids.mu.Unlock()
	sort.Slice(l, func(i, j int) bool { return l[i].ID < l[j].ID })
	return l
}

// PeerIDEntry is one row of a peer id table.
type PeerIDEntry struct {
	ID   int32
	Peer *Net
}

// dropPeer removes peer from n's table; it returns the id it had.
func (n *Net) dropPeer(peer *Net) (int32, bool) {
	t := &n.ids
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.byNet[peer]
	if ok {
		delete(t.byNet, peer)
		delete(t.byID, id)
	}
	return id, ok
}

// SubscribeIDs registers f to hear about every change to the peer id
// tables of the world's namespaces, in order. Allocations are reported
// on the goroutine that allocated (for rtnetlink, the executor of the
// namespace whose table changed), deletions on the goroutine calling
// Delete, before the deleted namespace's exit hooks run. f must not
// allocate ids itself. The returned function unsubscribes.
func (w *World) SubscribeIDs(f func(IDEvent)) (cancel func()) {
	w.idMu.Lock()
	defer w.idMu.Unlock()
	w.idSeq++
	key := w.idSeq
	w.idSubs = append(w.idSubs, idSub{key, f})
	return func() {
		w.idMu.Lock()
		defer w.idMu.Unlock()
		for i, s := range w.idSubs {
			if s.key == key {
				w.idSubs = append(w.idSubs[:i:i], w.idSubs[i+1:]...)
				return
			}
		}
	}
}

type idSub struct {
	key uint64
	f   func(IDEvent)
}

func (w *World) notifyIDs(ev IDEvent) {
	w.idMu.Lock()
	subs := w.idSubs // never modified in place
	w.idMu.Unlock()
	for _, s := range subs {
		s.f(ev)
	}
}

// unhashIDs is unhash_nsid: every other namespace forgets dead's id,
// with a deletion event each; dead's own table goes without events.
func (w *World) unhashIDs(dead *Net) {
	dead.dying.Store(true)
	for _, n := range w.all() {
		if n == dead {
			continue
		}
		if id, ok := n.dropPeer(dead); ok {
			w.notifyIDs(IDEvent{Net: n, Peer: dead, ID: id, Deleted: true})
		}
	}
	dead.ids.mu.Lock()
	dead.ids.byID, dead.ids.byNet = nil, nil
	dead.ids.mu.Unlock()
}

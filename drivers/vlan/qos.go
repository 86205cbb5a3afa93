package vlan

import (
	"sync/atomic"
	"syscall"
)

// QoSMapping is one entry of an ingress or egress priority map
// (struct ifla_vlan_qos_mapping): ingress maps a tag priority (0-7) to a
// packet priority, egress a packet priority to a tag priority.
type QoSMapping struct{ From, To uint32 }

// maxEgress bounds the egress map (Linux bounds it only by memory).
const maxEgress = 1024

type egressMapping struct {
	prio uint32 // skb priority
	qos  uint16 // tag priority, already shifted into the TCI's PCP bits
}

// qosMaps holds both maps as Linux keeps them: 8 ingress slots, and
// egress mappings hashed into 16 buckets by the low bits of the priority,
// newest first, which is the order they are dumped in. The egress map is
// the vlan's executor's; the ingress slots are read by the lower device's
// receive hook, which may run on another executor, so they are atomics.
type qosMaps struct {
	ingress [8]atomic.Uint32
	buckets [16][]egressMapping
	nEgress int // mappings with a non-zero tag priority
	total   int // entries, zero ones included (Linux keeps them)
}

func (q *qosMaps) setIngress(from, to uint32) { q.ingress[from&7].Store(to) }

func (q *qosMaps) setEgress(from, to uint32) error {
	qos := uint16(to<<13) & 0xe000
	b := &q.buckets[from&15]
	for i := range *b {
		m := &(*b)[i]
		if m.prio != from {
			continue
		}
		if m.qos != 0 {
			q.nEgress--
		}
		if qos != 0 {
			q.nEgress++
		}
		m.qos = qos
		return nil
	}
	if qos == 0 {
		return nil
	}
	if q.total >= maxEgress {
		return syscall.ENOBUFS
	}
	*b = append(*b, egressMapping{})
	copy((*b)[1:], (*b)[:len(*b)-1])
	(*b)[0] = egressMapping{prio: from, qos: qos}
	q.nEgress++
	q.total++
	return nil
}

// egress returns the TCI priority bits for a packet priority
// (vlan_dev_get_egress_qos_mask).
func (q *qosMaps) egress(prio uint32) uint16 {
	if q.total == 0 {
		return 0
	}
	for _, m := range q.buckets[prio&15] {
		if m.prio == prio {
			return m.qos
		}
	}
	return 0
}

func (q *qosMaps) ingressList() []QoSMapping {
	var l []QoSMapping
	for i := range q.ingress {
		if to := q.ingress[i].Load(); to != 0 {
			l = append(l, QoSMapping{From: uint32(i), To: to})
		}
	}
	return l
}

func (q *qosMaps) egressList() []QoSMapping {
	var l []QoSMapping
	for _, b := range q.buckets {
		for _, m := range b {
			if m.qos != 0 {
				l = append(l, QoSMapping{From: m.prio, To: uint32(m.qos>>13) & 7})
			}
		}
	}
	return l
}

// Package offload is software segmentation offload for TCP over IPv4:
// it splits the large segments TCP hands down into wire-sized ones for a
// device that cannot (GSO, Linux's skb_gso_segment → tcp_gso_segment) and
// coalesces the wire-sized segments of a received batch back into large
// ones before the protocol layers see them (GRO, napi_gro_receive →
// tcp4_gro_receive), so that TCP spends its per-packet cost once per
// 64 KiB in both directions.
//
// usnet's buffers are linear (no page fragments), so both directions copy
// payload once: a segment is a fresh buffer with a copy of the headers
// and its share of the payload, and a coalesced packet is the first
// segment's buffer grown to 64 KiB with the later payloads appended.
package offload

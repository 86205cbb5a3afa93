// Package tcp is usnet's TCP (net/ipv4/tcp*.c): a sans-IO state machine
// per connection on the namespace executor, fed segments by the IPv4
// layer and the executor's timers, sending through IPv4.
//
// What it does today: the RFC 9293 state machine (active and passive
// open, simultaneous open, orderly close from either side, TIME_WAIT 60 s,
// RST in every state with RFC 5961's exact-sequence rule and challenge
// ACKs), MSS and window-scale options, send and receive buffers with flow
// control and a bounded out-of-order queue, delayed ACKs (40 ms, every
// second full segment at once), Nagle, retransmission per RFC 6298 (1 s
// initial, 200 ms minimum, 120 s maximum, exponential backoff, Karn's
// rule, tcp_retries2-like give-up with ETIMEDOUT), fast retransmit and
// NewReno recovery (RFC 6582) with Reno congestion avoidance and an
// initial window of 10 segments, zero-window probing, listen backlog,
// RST for segments to nowhere.
//
// Not yet: SACK, timestamps, RACK-TLP, CUBIC/HyStart (Reno only), ECN,
// SYN cookies, keepalive, GSO super-packets, receive autotuning, urgent
// data (the URG flag is ignored, the data delivered in line), TCP_INFO
// beyond the Info struct's counters. docs/architecture.md tracks them.
package tcp

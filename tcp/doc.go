// Package tcp is usnet's TCP (net/ipv4/tcp*.c): a sans-IO state machine
// per connection on the namespace executor, fed segments by the IPv4
// layer and the executor's timers, sending through IPv4. The socket layer
// (package socket) turns its readiness callbacks into net.Conn semantics.
//
// What it does:
//   - RFC 9293 states: active, passive and simultaneous open, orderly and
//     simultaneous close, TIME_WAIT (60 s); RST in every state with RFC
//     5961's exact-sequence rule, challenge ACKs (1000/s per namespace)
//     and rate-limited out-of-window dupACKs (500 ms, as
//     tcp_invalid_ratelimit).
//   - Options as Linux sends them: MSS from the route MTU, window scaling,
//     SACK-permitted and timestamps (RFC 7323: RTT per ACK, PAWS; MSS
//     reduced by 12 for the option).
//   - Send and receive queues without steady-state allocation
//     (buffer.go), flow control whose right edge never moves left, a
//     bounded out-of-order queue reported in SACK blocks, delayed ACKs
//     (40 ms, at once every 2·MSS, in quick-ack mode at the start and on
//     out-of-order data), Nagle and TCP_NODELAY.
//   - Loss recovery: RTO per RFC 6298 with Linux's bounds (1 s initial,
//     200 ms floor on the variance term, 120 s cap), backoff, Karn,
//     tcp_retries2 → ETIMEDOUT, tcp_syn_retries; SACK scoreboard and
//     RFC 6675 pipe/NextSeg recovery (NewReno without SACK); tail loss
//     probes (RFC 8985 7).
//   - Congestion control through tcp/cc (cubic by default, reno), IW 10.
//   - GSO: segments up to 64 KiB with GSOSize = MSS and CsumPartial when
//     the device takes them; GRO super-packets accepted on receive.
//   - SYN cookies when a listener's SYN queue overflows, keepalive,
//     zero-window probes, PMTU from ICMP frag-needed, SO_SNDBUF/SO_RCVBUF,
//     a TCP_INFO-like Info.
//
// Not yet (deviations from Linux): RACK time-based loss detection (the
// dupthresh/SACK rule and TLP stand in), PRR (cwnd drops to ssthresh at
// once), F-RTO and undo, D-SACK, ECN, urgent data (the URG flag is
// ignored and the byte stays in line, as with SO_OOBINLINE), receive
// buffer autotuning (the window is tcp_rmem's default), TIME_WAIT reuse
// for outgoing connections, SO_LINGER with a timeout, pacing.
package tcp

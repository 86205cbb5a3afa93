// Package tcp is usnet's TCP (net/ipv4/tcp*.c): a sans-IO state machine
// per connection on the namespace executor, fed segments by the IPv4
// layer and the executor's timers, sending through IPv4. The socket layer
// (package socket) turns its readiness callbacks into net.Conn semantics.
//
// What it does:
//   - RFC 9293 states: active, passive and simultaneous open, orderly and
//     simultaneous close, TIME_WAIT (60 s); RST in every state with RFC
//     5961's exact-sequence rule, challenge ACKs (one per 500 ms per
//     connection; the namespace-wide tcp_challenge_ack_limit is unlimited
//     by default, as since Linux 6.0) and rate-limited out-of-window
//     dupACKs (500 ms, as tcp_invalid_ratelimit). Data nobody will read resets the
//     connection: unread at Close (TCPAbortOnClose), or arriving after
//     Close in FIN_WAIT1/2 (TCPAbortOnData); CloseWrite alone keeps
//     receiving.
//   - Options as Linux sends them: MSS from the route MTU (or its advmss
//     metric), window scaling,
//     SACK-permitted and timestamps (RFC 7323: RTT per ACK, PAWS; MSS
//     reduced by 12 for the option).
//   - Send and receive queues without steady-state allocation
//     (buffer.go), flow control whose right edge never moves left, a
//     bounded out-of-order queue reported in up to four SACK blocks kept
//     most recently used first (tcp_sack_new_ofo_skb: a fifth range
//     forgets the oldest), Nagle (Minshall's variant, as Linux) and
//     TCP_NODELAY.
//   - Delayed ACKs as Linux's icsk_ack engine (delack.go): ato adapts to
//     the gaps between data segments and doubles when the timer fires;
//     the delay is bounded by 500 ms (200 ms in interactive mode or after
//     a small or pushed segment), the SRTT and TCP_DELACK_MAX, and an
//     armed timer only moves earlier; an ACK goes at once for more than
//     rcv_mss (the peer's segment size as tcp_measure_rcv_mss sees it)
//     since the last window advertised when the window offered would not
//     shrink, when a gap fills, for out-of-order data and in quick-ack
//     mode (the first segments, after a silence longer than the RTO,
//     after retransmitted or CE-marked data, while the window grows); a
//     read that drains small segments or finds more than rcv_mss
//     unacknowledged sends it (tcp_cleanup_rbuf); interactive (pingpong)
//     mode on replies sent within ato, left when the timer fires, and
//     entered on the peer's FIN in ESTABLISHED, so that the ACK waits to
//     ride on our own FIN (tcp_fin); a retransmitted FIN is D-SACKed and
//     restarts quick-ack mode (tcp_send_dupack). TCP_QUICKACK
//     (SetQuickAck): 0 enters interactive mode, 1 leaves it and sends an
//     ACK still owed once the reader has drained the queue.
//     SACK compression (compsack.go, tcp_comp_sack_nr 44,
//     tcp_comp_sack_delay_ns 1 ms): three duplicate ACKs per rcv_nxt at
//     once, then one per 5% of the RTT (TCPAckCompressed); the ACK held
//     back goes early when an arrival opens a third block or extends
//     one beyond the first two.
//     tests/host's TestHostTCPDelayedAckMatchesKernel counts the ACKs of
//     a kernel and a usnet receiver for the same forged segments (bulk,
//     half-MSS, pushed, small, unread, TCP_QUICKACK 0) and
//     request/response exchanges; TestHostTCPFinAckMatchesKernel sees
//     both answer a FIN with one FIN-ACK when the server closes at once.
//   - Loss recovery: RTO per RFC 6298 with Linux's bounds (1 s initial,
//     3 s after a handshake without an RTT sample,
//     200 ms floor on the variance term, 120 s cap), backoff, Karn,
//     tcp_retries2 → ETIMEDOUT, tcp_syn_retries. Loss detection is
//     RACK-TLP (RFC 8985, tcp_recovery = 1; rack.go): every transmission
//     is a record with its send time (the retransmission queue); a record
//     is lost when one sent after it was delivered and an RTT plus the
//     reordering window has passed — zero until reordering is seen (so
//     the first recovery starts as the three-dupACK rule would), then
//     min_rtt/4, widened a step per D-SACK round up to SRTT — with the
//     RACK reordering timer for records not yet due, and tail loss probes
//     (tlp.go) in Open and CWR, after 2·SRTT plus 200 ms with one
//     segment out, 2 ms with more (packets_out: a FIN sent on its own
//     after data makes two), probing new data or else the highest
//     segment, a lone FIN too (SACKed as any out-of-order segment, its
//     block ending after it): one probe per episode (tlp_high_seq); a
//     retransmitted probe that repaired a real loss — data after it is
//     acknowledged with no D-SACK for it first — costs one reduction to
//     the algorithm's ssthresh (TCPLossProbeRecovery), one whose original
//     arrived too (its D-SACK) none. Receivers send D-SACKs (RFC 2883) for
//     duplicates, PAWS-rejected ones included: data below rcv_nxt, and
//     data the out-of-order queue holds already — a segment inside one
//     held, the overlap of one starting inside, the held ones a longer
//     one covers or replaces, and held data that in-order data overlaps
//     (tcp_data_queue_ofo, tcp_ofo_queue; TCPDSACKOfoSent,
//     TCPDSACKOldSent, TCPOFOMerge). Lost records are
//     retransmitted within cwnd; lost retransmissions are detected again
//     (TCPLostRetransmit), and after an RTO that moves Loss to Recovery,
//     whose PRR paces the repair (FLAG_LOST_RETRANS); an RTO marks every
//     unSACKed record lost. An ACK that stops at a SACKed record
//     (reneging) arms the retransmission timer for max(SRTT/2, 10 ms);
//     a timeout with the head still SACKed forgets the SACKs
//     (tcp_check_sack_reneging, TCPSACKReneging). Without SACK, NewReno (RFC 6582). Window
//     reductions use PRR (RFC 6937, tcp_cwnd_reduction), ending at
//     ssthresh. The per-ACK state machine is tcp_fastretrans_alert's
//     (alert.go), Disorder included: entered when an ACK leaves records
//     SACKed or lost or retransmissions about, it bars probes, and ECE
//     on an ACK that starts no recovery enters CWR (tcp_try_to_open).
//   - Undo of spurious reductions (undo.go): a recovery whose every
//     retransmission comes back D-SACKed, or whose ACKs echo a timestamp
//     older than the first retransmission (Eifel, RFC 3522), gets its
//     cwnd (the algorithm's undo_cwnd) and ssthresh back — at its end,
//     on a partial ACK, or later; ECN congestion forbids it. F-RTO (RFC
//     5682, tcp_frto = 2; frto.go) judges timeouts: data never
//     retransmitted being acknowledged makes the timeout spurious and
//     stops the go-back-N. TCPSpuriousRTOs, TCPFullUndo, TCPPartialUndo,
//     TCPDSACKUndo and TCPLossUndo are counted per connection and
//     namespace.
//   - Congestion control through tcp/cc (cubic by default, reno), IW 10.
//   - ECN (RFC 3168, ecn.go): tcp_ecn 2 by default — accepted when the
//     peer's SYN asks, not asked for; 1 asks. ECT(0) on new data, ECE
//     echoed until CWR, one reduction per window (CWR state with PRR);
//     a retransmitted SYN drops the request (tcp_ecn_fallback).
//   - GSO: segments up to 64 KiB with GSOSize = MSS and CsumPartial when
//     the device takes them; GRO super-packets accepted on receive.
//   - Buffers (autotune.go): tcp_rmem/tcp_wmem defaults (131072 and
//     16384 to start, 32 MiB and 4 MiB at most, as Linux 6.18 on a machine
//     with memory to spare); receive-buffer autotuning
//     by dynamic right-sizing (tcp_moderate_rcvbuf, with the receiver's
//     RTT from timestamps or per window); the send buffer in truesize
//     (buffer.go): the send queue's skbs are charged against it
//     (sk_wmem_queued against sk_sndbuf), a write takes new skbs while
//     the charge is below it, a waiting writer is woken once ACKs free a
//     third (sk_stream_write_space), TCP_NOTSENT_LOWAT bounds the unsent
//     bytes, and while a writer waits with cwnd not full the buffer grows
//     to twice cwnd counted in one-MSS skbs (tcp_new_space,
//     tcp_sndbuf_expand); Info shows SndBuf, WmemQueued, NotsentBytes and
//     the time limited by the send buffer (tcpi_sndbuf_limited).
//     SO_RCVBUF/SO_SNDBUF lock them. The window scale is chosen for
//     tcp_rmem[2]. Both queues hold packet buffers (skbs), not byte
//     stores: received packets are queued by reference and copied once,
//     into the reader's buffer (rcvqueue.go); sent data is copied once,
//     into skbs of one GSO segment each, which go out as clones
//     (sndqueue.go).
//   - Window selection (rcvwnd.go): the SYN offers the buffer's window in
//     whole segments (64240; 65160 in a SYN-ACK with timestamps), the
//     clamp keeps one segment in reserve, and the window advertised is
//     min(free space, rcv_ssthresh): rcv_ssthresh starts at the initial
//     window and grows with each in-order packet of at least 128 bytes by
//     its payload/truesize ratio (tcp_grow_window: two segments, or twice
//     a GRO packet's payload), so tiny segments pinning whole buffers earn
//     nothing; it collapses to two segments when the queues pin more than
//     the buffer (tcp_clamp_window). Receiver silly-window avoidance
//     (__tcp_select_window) and a right edge that never moves left.
//   - Shutdown and close (shutdown.go): shutdown(SHUT_RD) as Linux does
//     it (CloseRead: nothing sent, data still readable, an empty queue
//     reads EOF at once; data after both directions are shut resets), and
//     close with SO_LINGER: 0 resets, a timeout waits for the FIN's ACK
//     (CloseLinger, sk_stream_wait_close) and then leaves the connection
//     to finish alone.
//   - Ports and TIME_WAIT (portsel.go): ephemeral ports as
//     __inet_hash_connect picks them (keyed hash of the destination plus
//     a perturbation, low parity first, shared between destinations);
//     TIME_WAIT reuse for outgoing connections as tcp_twsk_unique
//     (tcp_tw_reuse 2: loopback only; timestamps required; after
//     tcp_tw_reuse_delay, 1 s), SYNs that end a TIME_WAIT on the server
//     side (TCP_TW_SYN), tcp_max_tw_buckets; ISNs and timestamp offsets
//     keyed as secure_tcp_seq / secure_tcp_ts_off.
//   - Urgent data (urgent.go): the pointer is parsed BSD-style, and
//     without SO_OOBINLINE (Linux's default) the urgent byte leaves the
//     stream — reads stop at the mark, skip the byte, RecvOOB returns it
//     once; SendOOB sends one. A flood of URG segments only moves the
//     single mark.
//   - SYN cookies when a listener's SYN queue overflows (tcp_syncookies
//     1) or always (2), keeping window scaling, SACK, timestamps and ECN
//     in the SYN-ACK's timestamp as Linux does (cookie.go), keepalive,
//     zero-window probes, PMTU from ICMP frag-needed, SO_SNDBUF/SO_RCVBUF,
//     a TCP_INFO-like Info.
//
// Not yet (deviations from Linux): SACK compression's timer slack
// (tcp_comp_sack_slack_ns), jiffies of HZ 1000 for ato (kernels built
// with HZ 250 round to 4 ms), a FIN always sent in a segment of its own
// (Linux sets it on the last data skb when that is still unsent at
// close, tcp_send_fin), the receive window
// counted in payload rather than truesize (the window is half the buffer
// figure, as at Linux's default scaling ratio, and the free space for
// window selection does not subtract the out-of-order queue; so a
// receiver that does not read stops growing rcv_ssthresh, and with it
// asking for quick ACKs, a few segments earlier than Linux), the global
// tcp_mem pressure that shrinks rcv_ssthresh (tcp_adjust_rcv_ssthresh)
// and stops send-buffer growth, and the per-socket scaling_ratio; a send
// skb charged its whole buffer when allocated rather than growing with
// the bytes copied into page fragments, so that a split (tso_fragment)
// charges a new buffer for the smaller part where Linux moves
// fragments; SACK blocks beyond the MSS's option room cut by GSO
// rather than by a smaller mss_now (tcp_current_mss); 256 rather than 65536
// port perturbation slots, AccECN, pacing.
package tcp

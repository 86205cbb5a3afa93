// Package cc holds TCP congestion control: the algorithms a connection's
// state machine consults on every ACK, loss and idle restart, as Linux's
// tcp_congestion_ops (net/ipv4/tcp_cong.c, tcp_cubic.c).
//
// An Algorithm is per connection and keeps its private state (Linux's
// inet_csk_ca area) in the value New returns; everything it shares with
// the connection lives in a Sender, which the caller owns and passes to
// every call. Windows count segments, as snd_cwnd does. Algorithms run on
// the namespace executor: they read the time from Sender.Now, never from
// the wall clock, and allocate nothing per ACK.
package cc

// Package socket puts Go's blocking socket API — net.Conn, net.Listener,
// net.PacketConn — on top of usnet's sans-IO transport endpoints, which
// live on namespace executors. It is the edge where goroutines block: a
// call enters the executor with Do, and when it would block, the caller
// waits on a readiness signal the endpoint raises from the executor, or on
// its deadline. UDP receives skip the executor call: the endpoint hands
// each datagram to a queue the reader drains under a lock, as a kernel
// socket's receive queue is shared with recvmsg, and the memory goes back
// to the endpoint's receive buffer in batches.
//
// TCP connections start with Nagle off (TCP_NODELAY), as Go's net
// package makes them. Keepalive is the caller's choice here, as on a raw
// socket; stack.Namespace's Dial and Listen, the net.Dial and net.Listen
// of a namespace, turn it on as those do (15 s, 15 s, 9 probes).
//
// Errors are what a Go program sees from the kernel: *net.OpError wrapping
// *os.SyscallError with a syscall.Errno, os.ErrDeadlineExceeded on a
// deadline, net.ErrClosed after Close.
//
// Blocking calls need a real-time stack (stack.NewRealtime). In simulation
// the executor is the driving goroutine itself; programs there use the
// endpoints directly, event-driven.
package socket

// Package socket puts Go's blocking socket API — net.Conn, net.Listener,
// net.PacketConn — on top of usnet's sans-IO transport endpoints, which
// live on namespace executors. It is the edge where goroutines block: a
// call enters the executor with Do, and when it would block, the caller
// waits on a readiness signal the endpoint raises from the executor, or on
// its deadline.
//
// Errors are what a Go program sees from the kernel: *net.OpError wrapping
// *os.SyscallError with a syscall.Errno, os.ErrDeadlineExceeded on a
// deadline, net.ErrClosed after Close.
//
// Blocking calls need a real-time stack (stack.NewRealtime). In simulation
// the executor is the driving goroutine itself; programs there use the
// endpoints directly, event-driven.
package socket

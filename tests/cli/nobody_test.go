package cli

import (
	"context"
	"syscall"
)

// nobody runs a child as the user and group nobody (65534), with the
// supplementary groups given (none by default).
func nobody(groups ...uint32) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
}

func contextTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), cmdTimeout)
}

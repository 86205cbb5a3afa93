// Package sysctl is /proc/sys/net of a usnet namespace: the settings
// usnet models, under Linux's names, read and written as text in the
// kernel's formats.
//
// Values read as the kernel prints them: integers in decimal, vectors
// separated by tabs ("32768\t60999"), strings as they are. Writes parse as
// the kernel's proc handlers do (proc_dointvec and friends): one value or
// a vector separated by blanks, decimal, 0x hex or 0 octal, extra values
// ignored and missing ones left unchanged, and each name's range
// (proc_dointvec_minmax, proc_dou8vec_minmax) or cross-checks
// (ip_local_port_range against ip_unprivileged_port_start).
//
// Errors are the kernel's: ENOENT for a name usnet does not have (names
// whose semantics usnet does not model are absent, not faked), EINVAL for
// a value the kernel refuses, EACCES for writing a read-only name, ENOENT
// for an unknown tcp_congestion_control.
//
// The special semantics follow Linux: writing net.ipv4.ip_forward or
// net.ipv4.conf.all.forwarding sets default and every device too;
// writing a conf.default setting reaches the devices that never had it
// written; per-device names exist while their device does, under its
// current name (a '.' in a device name reads as '/', as in /proc). Changes
// of forwarding, rp_filter, proxy_arp and ignore_routes_with_linkdown are
// reported as RTM_NEWNETCONF by the namespace's rtnetlink (package rtnl).
//
// Names: net.ipv4.ip_forward and the net.ipv4.* of ipv4.Sysctl,
// net.ipv4.conf.{all,default,DEV}.* of ipv4.DevConf, net.ipv4.tcp_* of
// tcp.Sysctl, and net.ipv4.neigh.DEV.* of the device's neigh.Params (no
// neigh.default: a namespace other than the initial one has none on
// Linux either). tcp_fin_timeout is absent: usnet's tcp.Sysctl.FinTimeout
// is the TIME_WAIT length, which Linux does not make settable.
//
// Known differences: booleans usnet keeps as bool (conf flags other than
// rp_filter, arp_ignore and arp_announce; ip_forward; tcp_sack, ...) read
// back 1 after any nonzero write, where Linux keeps the integer; the
// first value of tcp_rmem/tcp_wmem (the floor under memory pressure,
// which usnet does not model) reads as Linux's 4096 and a written one is
// checked but not kept; times convert exactly, without the kernel's
// rounding to jiffies; negative neighbour times (locktime,
// gc_stale_time, ...), which Linux takes, are EINVAL.
//
// Get, Set and All run on the namespace's executor; stack.Namespace's
// Sysctl, SetSysctl and Sysctls enter it for callers outside, and
// package client offers the same in process and over `usnet daemon`.
package sysctl

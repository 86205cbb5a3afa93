// Package sched holds queueing disciplines for a device's transmit slot
// (Linux's net/sched): pfifo, a bounded FIFO, and netem, the network
// emulator that delays, rate-limits, drops, duplicates, reorders and
// corrupts packets from the namespace's seeded random source, so
// impairments repeat exactly in simulation.
package sched

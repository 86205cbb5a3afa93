package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/usnet/usnet/daemon"
)

// cmdCapture is `usnet capture [-n NS] -i DEV -w FILE [-c COUNT]`: the
// daemon taps the device (both directions) and streams pcapng, written
// to FILE block by block until COUNT packets or ^C.
func cmdCapture(args []string) error {
	fs := flag.NewFlagSet("capture", flag.ContinueOnError)
	ns := nsFlag(fs)
	dev := fs.String("i", "", "device")
	out := fs.String("w", "", "pcapng file to write (- for standard output)")
	count := fs.Int("c", 0, "stop after COUNT packets")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dev == "" || *out == "" {
		return errors.New("usage: usnet capture [-n NS] -i DEV -w FILE [-c COUNT]")
	}
	c, err := daemon.Capture(daemon.DefaultPath(), *ns, *dev)
	if err != nil {
		return err
	}
	defer c.Close()
	var w io.Writer = os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() { <-sig; c.Close() }()
	packets, err := copyBlocks(c, w, *count)
	fmt.Fprintf(os.Stderr, "%d packets captured\n", packets)
	return err
}

// copyBlocks copies whole pcapng blocks from r to w (so the file is valid
// whenever it stops) and counts the enhanced packet blocks, stopping after
// limit of them (0: until r ends).
func copyBlocks(r io.Reader, w io.Writer, limit int) (int, error) {
	var buf []byte
	rd := make([]byte, 256<<10)
	packets := 0
	for {
		n, err := r.Read(rd)
		buf = append(buf, rd[:n]...)
		for len(buf) >= 12 {
			typ := binary.LittleEndian.Uint32(buf[0:])
			blen := int(binary.LittleEndian.Uint32(buf[4:]))
			if blen < 12 || blen%4 != 0 {
				return packets, errors.New("capture: malformed pcapng stream")
			}
			if len(buf) < blen {
				break
			}
			if _, err := w.Write(buf[:blen]); err != nil {
				return packets, err
			}
			buf = buf[blen:]
			if typ == 6 { // enhanced packet block
				packets++
				if limit > 0 && packets >= limit {
					return packets, nil
				}
			}
		}
		if err != nil {
			return packets, nil // the daemon or ^C ended the stream
		}
	}
}

package main

import (
	"errors"
	"flag"
	"os"
	"strconv"
	"time"

	"github.com/usnet/usnet/daemon"
	"github.com/usnet/usnet/devstat"
	"github.com/usnet/usnet/iproute"
)

// cmdStat is `usnet stat [-n NS] [-j] [--kernel] [INTERVAL [COUNT]]`.
func cmdStat(args []string) error {
	fs := flag.NewFlagSet("stat", flag.ContinueOnError)
	ns := nsFlag(fs)
	asJSON := fs.Bool("j", false, "JSON, one array per interval")
	kernel := fs.Bool("kernel", false, "read a kernel namespace (/run/netns/NS) instead of the usnet daemon")
	if err := fs.Parse(args); err != nil {
		return err
	}
	interval, count := time.Second, 0
	if fs.NArg() > 0 {
		s, err := strconv.ParseFloat(fs.Arg(0), 64)
		if err != nil || s <= 0 {
			return errors.New("usage: usnet stat [-n NS] [-j] [INTERVAL [COUNT]]")
		}
		interval = time.Duration(s * float64(time.Second))
		count = -1
	} else {
		count = 1
	}
	if fs.NArg() > 1 {
		n, err := strconv.Atoi(fs.Arg(1))
		if err != nil || n < 1 {
			return errors.New("usage: usnet stat [-n NS] [-j] [INTERVAL [COUNT]]")
		}
		count = n
	}
	if count < 0 {
		count = 0 // an interval without a count runs until interrupted
	}
	var tr iproute.Transport
	var err error
	if *kernel {
		tr, err = iproute.DialKernel(*ns)
	} else {
		tr, err = dialNetlink(*ns)
	}
	if err != nil {
		return err
	}
	c := iproute.NewConn(tr)
	defer c.Close()
	var flow func() (map[string]uint64, error)
	if !*kernel {
		flow = func() (map[string]uint64, error) {
			ps, err := daemon.PortStats(daemon.DefaultPath(), *ns)
			out := map[string]uint64{}
			for name, s := range ps {
				out[name] = s.FlowControl
			}
			return out, err
		}
	}
	return devstat.RunWith(c, flow, interval, count, *asJSON, os.Stdout)
}

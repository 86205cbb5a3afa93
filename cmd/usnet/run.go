package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/usnet/usnet/scenario"
)

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "random seed of the simulation")
	out := fs.String("out", "usnet-out", "directory for captures (one pcapng per device) and summary.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	sum, err := scenario.Default(*seed, *out)
	if sum != nil {
		scenario.Print(os.Stdout, sum)
		fmt.Printf("output written to %s\n", *out)
	}
	return err
}

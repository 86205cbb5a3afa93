// Command bench runs usnet's comparison benchmarks against its peers
// (gVisor netstack, the Linux kernel in network namespaces, ns-3) and
// prints one table with usnet/peer ratios. Run it from the bench module:
//
//	go run ./cmd/bench [-smoke] [-only REGEXP] [-json out.json] [-out table.txt] [-svg mtu.svg]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/usnet/usnet/bench"
)

func main() {
	smoke := flag.Bool("smoke", false, "tiny sizes: checks every scenario runs (CI), figures mean nothing")
	only := flag.String("only", "", "run only scenarios whose name matches this regexp")
	jsonOut := flag.String("json", "", "also write the report as JSON to this file")
	out := flag.String("out", "", "also write the table to this file")
	svg := flag.String("svg", "", "also draw TCP bulk throughput by MTU for every stack as SVG to this file")
	flag.Parse()
	var re *regexp.Regexp
	if *only != "" {
		var err error
		if re, err = regexp.Compile(*only); err != nil {
			fatal(err)
		}
	}
	dir, err := moduleDir()
	if err != nil {
		fatal(err)
	}
	env, err := bench.NewEnv(dir, *smoke)
	if err != nil {
		fatal(err)
	}
	// Namespaces and helper processes are removed on Ctrl-C or SIGTERM too.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "\n%v: cleaning up\n", s)
		env.Cleanup()
		os.Exit(130)
	}()
	defer env.Cleanup()

	start := time.Now()
	rep := bench.Run(env, bench.Scenarios(), re, os.Stderr)
	var buf bytes.Buffer
	mode := "full"
	if *smoke {
		mode = "smoke (sizes too small to mean anything)"
	}
	host, _ := os.Hostname()
	fmt.Fprintf(&buf, "usnet comparison benchmarks, %s run, %s, %s %d cores, %s, %.0fs\n\n",
		mode, start.Format(time.RFC3339), runtime.GOARCH, runtime.NumCPU(), host, time.Since(start).Seconds())
	rep.WriteTable(&buf)
	os.Stdout.Write(buf.Bytes())
	if *out != "" {
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			fatal(err)
		}
	}
	if *jsonOut != "" {
		if err := rep.WriteJSON(*jsonOut); err != nil {
			fatal(err)
		}
	}
	if *svg != "" {
		title := fmt.Sprintf("TCP bulk, one stream over veth: %s run %s, %d cores", mode, start.Format("2006-01-02"), runtime.NumCPU())
		if *smoke {
			title = "TCP bulk by MTU (smoke run: figures mean nothing)"
		}
		if err := writeSVG(*svg, rep, title); err != nil {
			fatal(err)
		}
	}
	for _, r := range rep.Rows {
		for _, c := range r.Cells {
			if c.Status == "error" {
				env.Cleanup()
				os.Exit(1)
			}
		}
	}
}

// moduleDir finds the bench module's root from the working directory.
func moduleDir() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/usnet/usnet/bench\n") {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", fmt.Errorf("run from inside the bench module (cd bench)")
		}
		d = p
	}
}

func writeSVG(path string, rep *bench.Report, title string) error {
	var b bytes.Buffer
	if err := rep.WriteMTUSVG(&b, title); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func fatal(err error) {
	io.WriteString(os.Stderr, "bench: "+err.Error()+"\n")
	os.Exit(2)
}

package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// HTTPServe serves the files under dir on addr in ns until ctx ends
// (`usnet http serve DIR --addr A`).
func HTTPServe(ctx context.Context, ns Namespace, dir, addr string, log io.Writer) error {
	l, err := ns.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if log != nil {
		fmt.Fprintf(log, "serving %s on http://%s/\n", dir, l.Addr())
	}
	err = srv.Serve(l)
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// HTTPGet fetches url through ns and writes the body to w, returning its
// length and SHA-256 (`usnet http get URL -o FILE`).
func HTTPGet(ctx context.Context, ns Namespace, url string, w io.Writer) (int64, string, error) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return ns.DialContext(ctx, "tcp", addr)
		},
		DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), resp.Body)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// CreateOutput opens the -o file ("-": standard output).
func CreateOutput(path string) (io.WriteCloser, error) {
	if path == "" || path == "-" {
		return nopCloser{os.Stdout}, nil
	}
	return os.Create(path)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

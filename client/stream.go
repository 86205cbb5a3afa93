package client

import (
	"context"
	"sync"
)

// The stream operators compose event channels the way MidoNet's
// rtnetlink observers do: Subscribe gives one stream per socket, Filter
// and Map narrow and reshape it, Merge combines streams (of several
// namespaces, or of Subscribe and Interfaces). Each runs one goroutine
// that ends, closing its output, when its inputs are closed or ctx ends;
// the output is unbuffered, so a slow consumer slows the stream down and
// Subscribe's own bound (an Overflow event) applies.

// Filter passes on the values of in that keep accepts.
func Filter[T any](ctx context.Context, in <-chan T, keep func(T) bool) <-chan T {
	out := make(chan T)
	go func() {
		defer close(out)
		for v := range in {
			if keep(v) && !send(ctx, out, v) {
				return
			}
		}
	}()
	return out
}

// Map passes on f of each value of in.
func Map[T, U any](ctx context.Context, in <-chan T, f func(T) U) <-chan U {
	out := make(chan U)
	go func() {
		defer close(out)
		for v := range in {
			if !send(ctx, out, f(v)) {
				return
			}
		}
	}()
	return out
}

// Merge passes on the values of all inputs, each input's in its order,
// and closes when every input is closed.
func Merge[T any](ctx context.Context, ins ...<-chan T) <-chan T {
	out := make(chan T)
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Go(func() {
			for v := range in {
				if !send(ctx, out, v) {
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

func send[T any](ctx context.Context, out chan<- T, v T) bool {
	select {
	case out <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

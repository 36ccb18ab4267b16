package pool_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool"
)

func ExampleThreadPool() {
	p := pool.NewThreadPool[int](pool.Options{MaxWorkers: 4})
	defer p.Shutdown(context.Background(), pool.ShutdownOptions{Wait: true})

	ctx := context.Background()
	var fs []*future.Future[int]
	for i := 1; i <= 3; i++ {
		f, err := p.Submit(ctx, func(context.Context) (int, error) { return i * i, nil })
		if err != nil {
			fmt.Println(err)
			return
		}
		fs = append(fs, f)
	}
	for _, f := range fs {
		fmt.Println(f.Result(ctx))
	}
	// Output:
	// 1 <nil>
	// 4 <nil>
	// 9 <nil>
}

func ExampleThreadPool_Shutdown() {
	p := pool.NewThreadPool[string](pool.Options{MaxWorkers: 1, NamePrefix: "io"})
	ctx := context.Background()
	f, _ := p.Submit(ctx, func(ctx context.Context) (string, error) {
		return "ran on " + pool.WorkerName(ctx), nil
	})
	// Wait: the pending and running tasks finish and every worker exits.
	if err := p.Shutdown(ctx, pool.ShutdownOptions{Wait: true}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(f.Result(ctx))
	_, err := p.Submit(ctx, func(context.Context) (string, error) { return "", nil })
	fmt.Println(errors.Is(err, pool.ErrShutdown))
	// Output:
	// ran on io_0 <nil>
	// true
}

func ExampleOptions_initializer() {
	p := pool.NewThreadPool[int](pool.Options{
		MaxWorkers: 2,
		Initializer: func(ctx context.Context) error {
			return errors.New("cannot log in")
		},
	})
	defer p.Shutdown(context.Background(), pool.ShutdownOptions{Wait: true})

	ctx := context.Background()
	f, _ := p.Submit(ctx, func(context.Context) (int, error) { return 1, nil })
	_, err := f.Result(ctx)
	fmt.Println(err)
	fmt.Println(errors.Is(err, pool.ErrBroken))
	_, err = p.Submit(ctx, func(context.Context) (int, error) { return 1, nil })
	fmt.Println(errors.Is(err, pool.ErrBrokenThreadPool))
	// Output:
	// pool: thread pool is broken: worker_0: initializer: cannot log in
	// true
	// true
}

func ExampleMap() {
	p := pool.NewThreadPool[string](pool.Options{MaxWorkers: 4})
	defer p.Shutdown(context.Background(), pool.ShutdownOptions{Wait: true})

	words := slices.Values([]string{"alpha", "beta", "", "delta"})
	upper := func(_ context.Context, w string) (string, error) {
		if w == "" {
			return "", errors.New("empty word")
		}
		return strings.ToUpper(w), nil
	}
	// Results come in input order, an item's error with that item.
	for v, err := range pool.Map(context.Background(), p, upper, words, pool.MapOptions{Chunksize: 2}) {
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(v)
	}
	// Output:
	// ALPHA
	// BETA
	// error: empty word
	// DELTA
}

// Run Go functions on a pool and stop at the first error, as
// golang.org/x/sync/errgroup.WithContext does: Wait with FirstException
// returns as soon as one fails, and cancelling ctx stops the others.
func Example_firstError() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := pool.NewThreadPool[string](pool.Options{MaxWorkers: 4})
	defer p.Shutdown(context.Background(), pool.ShutdownOptions{Wait: true, CancelFutures: true})

	var fs []*future.Future[string]
	for _, name := range []string{"a.txt", "b.txt", "missing.txt", "c.txt"} {
		f, _ := p.Submit(ctx, func(ctx context.Context) (string, error) { return fetch(ctx, name) })
		fs = append(fs, f)
	}
	done, _ := future.Wait(ctx, fs, future.FirstException)
	cancel() // the others see ctx.Done() and return
	for _, f := range done {
		if err := f.Err(ctx); err != nil {
			fmt.Println("first error:", err)
		}
	}
	// Output:
	// first error: fetch missing.txt: not found
}

// fetch fails at once for missing.txt and otherwise works until ctx ends.
func fetch(ctx context.Context, name string) (string, error) {
	if name == "missing.txt" {
		return "", fmt.Errorf("fetch %s: not found", name)
	}
	<-ctx.Done()
	return "", ctx.Err()
}

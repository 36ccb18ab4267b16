package pool_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/pool"
	"github.com/futures-cli/futures/pool/job"
)

func ExampleProcessPool() {
	// A program leaves Launcher nil and is itself the worker (futures
	// worker); here this test binary serves as the worker (see TestMain).
	exe, _ := os.Executable()
	launcher := &pool.LocalLauncher{Command: []string{exe},
		Env: append(os.Environ(), "FUTURES_POOL_TEST_WORKER=1", "GORACE=atexit_sleep_ms=0")}

	p := pool.NewProcessPool[string](pool.ProcessOptions{
		MaxWorkers: 2,
		// Run once in each worker: its jobs run where it leaves them.
		Initializer: "export GREETING=hello; cd /",
		Launcher:    launcher,
	})
	ctx := context.Background()
	defer p.Shutdown(ctx, pool.ShutdownOptions{Wait: true})

	var fs []*future.Future[string]
	for _, name := range []string{"ada", "grace"} {
		f, err := p.Submit(ctx, func(ctx context.Context) (string, error) {
			var out strings.Builder
			spec := job.Spec{Line: `echo "$GREETING ` + name + ` from $(pwd)"`, Shell: true}
			o, err := pool.RunJob(ctx, spec, &out, nil, nil) // err: the worker was lost
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("exit %d: %s", o.ExitCode, strings.TrimSpace(out.String())), nil
		})
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
	// exit 0: hello ada from / <nil>
	// exit 0: hello grace from / <nil>
}

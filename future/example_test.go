package future_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/futures-cli/futures/future"
)

// An executor's side and a caller's side of one future.
func ExampleFuture() {
	ctx := context.Background()
	f := future.New[int]()
	var log []string
	f.AddDoneCallback(func(f *future.Future[int]) {
		log = append(log, "callback: "+f.State().String())
	})

	var executor sync.WaitGroup
	executor.Go(func() {
		if !f.SetRunningOrNotifyCancel() {
			return // cancelled before it started: do not run the job
		}
		f.SetResult(6 * 7) // wakes Result, then runs the callbacks
	})

	v, err := f.Result(ctx) // blocks until the executor sets the result
	fmt.Println(v, err)
	fmt.Println("cancel a finished future:", f.Cancel())
	executor.Wait()
	fmt.Println(log)
	// Output:
	// 42 <nil>
	// cancel a finished future: false
	// [callback: FINISHED]
}

func ExampleFuture_Cancel() {
	ctx := context.Background()
	f := future.New[string]()
	fmt.Println("cancelled:", f.Cancel(), f.State())
	_, err := f.Result(ctx)
	fmt.Println(errors.Is(err, future.ErrCancelled))
	// The executor, when it gets to the job, learns it must not run it.
	fmt.Println("run it:", f.SetRunningOrNotifyCancel())
	// Output:
	// cancelled: true CANCELLED
	// true
	// run it: false
}

func ExampleFuture_Result_timeout() {
	f := future.New[int]() // never completed
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := f.Result(ctx)
	fmt.Println(errors.Is(err, future.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	fmt.Println(f.State())
	// Output:
	// true true
	// PENDING
}

func ExampleWait() {
	ok, failing, slow := future.New[string](), future.New[string](), future.New[string]()
	ok.SetResult("ok")

	var executor sync.WaitGroup
	executor.Go(func() { failing.SetException(errors.New("exit status 1")) })

	// Returns when failing fails; slow is never completed.
	done, notDone := future.Wait(context.Background(), []*future.Future[string]{ok, failing, slow}, future.FirstException)
	executor.Wait()
	for _, f := range done {
		v, err := f.Result(context.Background())
		fmt.Printf("done: %q %v\n", v, err)
	}
	fmt.Println("not done:", len(notDone), notDone[0].State())

	// With a deadline, Wait returns what is done by then.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	done, notDone = future.Wait(ctx, []*future.Future[string]{ok, slow}, future.AllCompleted)
	fmt.Println(len(done), len(notDone), ctx.Err())
	// Output:
	// done: "ok" <nil>
	// done: "" exit status 1
	// not done: 1 PENDING
	// 1 1 context deadline exceeded
}

func ExampleAsCompleted() {
	ctx := context.Background()
	a, b, c := future.New[string](), future.New[string](), future.New[string]()
	b.SetResult("b") // already finished: yielded first

	started := make(chan struct{})
	var executor sync.WaitGroup
	executor.Go(func() {
		<-started
		c.SetResult("c") // then in completion order: c, a
		a.SetException(errors.New("a failed"))
	})

	for f, err := range future.AsCompleted(ctx, []*future.Future[string]{a, b, c}) {
		if err != nil { // only when ctx ends first
			fmt.Println(err)
			break
		}
		if f == b {
			close(started)
		}
		v, err := f.Result(ctx) // does not block: f is done
		fmt.Printf("%q %v\n", v, err)
	}
	executor.Wait()
	// Output:
	// "b" <nil>
	// "c" <nil>
	// "" a failed
}

func ExampleAsCompleted_timeout() {
	done, never := future.New[int](), future.New[int]()
	done.SetResult(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	for f, err := range future.AsCompleted(ctx, []*future.Future[int]{never, done}) {
		if err != nil {
			fmt.Println(errors.Is(err, future.ErrTimeout), err)
			break
		}
		fmt.Println(f.Result(ctx))
	}
	// Output:
	// 1 <nil>
	// true future: timeout: 1 (of 2) futures unfinished: context deadline exceeded
}

func ExampleFuture_Ready() {
	f := future.New[string]()
	go f.SetResult("ready")
	select {
	case <-f.Ready():
		fmt.Println(f.Result(context.Background()))
	case <-time.After(time.Minute):
		fmt.Println("still pending")
	}
	// Output:
	// ready <nil>
}

package service_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/futures-cli/futures/runner/service"
)

// A client finds or starts the service NAME: under the start lock it
// looks at the socket, removes a stale one, and starts a service when
// none runs; then it asks the service who it is.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	os.Setenv("XDG_RUNTIME_DIR", dir+"/run")
	os.Setenv("XDG_STATE_HOME", dir+"/state")

	p, err := service.Resolve("ci")
	if err != nil {
		fmt.Println(err)
		return
	}
	release, err := service.Acquire(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	state, err := service.CheckSocket(context.Background(), p)
	if err != nil {
		fmt.Println(err)
		return
	}
	if state == service.Stale {
		fmt.Println(service.StaleMessage(p))
	}
	// Here `futures start` would start `futures service` in the
	// background; this example serves in a goroutine instead.
	ln, err := service.Listen(p, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := service.NewServer(p, service.Options{Version: "v1.0.0"})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	release()

	c := service.Dial(p)
	info, err := c.Service(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Name, info.Version, info.PID == os.Getpid())
	c.Close()

	srv.Close()
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		fmt.Println(err)
	}
	_, err = service.Dial(p).Service(context.Background())
	fmt.Println(errors.Is(err, service.ErrNotRunning))
	// Output:
	// ci v1.0.0 true
	// true
}

package cmd

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/futures-cli/futures/runner/service"
)

// TestSubmitDetachedToARunningServiceIsOneRequest holds the fast path of
// submit --detach: when a service answers on the socket, the submit is
// the only request (no start lock, no GET /v1/service first). A fake
// service on the socket records what it is asked.
func TestSubmitDetachedToARunningServiceIsOneRequest(t *testing.T) {
	dir, err := os.MkdirTemp("", "fut")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Setenv("FUTURES_SERVICE", "")
	p, err := service.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Ensure(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", p.Socket)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case service.SubmitPath:
			service.WriteJSON(w, http.StatusOK, service.SubmitReply{IDs: []int64{7}})
		default:
			service.WriteJSON(w, http.StatusOK, service.Info{Name: p.Name, PID: os.Getpid()})
		}
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})

	stdout, stderr, err := runCmd(t, "", "submit", "--detach", "--", "true")
	if err != nil || stdout != "%7\n" {
		t.Fatalf("submit --detach -- true: %v; stdout %q, stderr %q", err, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"POST " + service.SubmitPath}; !slices.Equal(asked, want) {
		t.Errorf("the service was asked %q, want only %q", asked, want)
	}
}

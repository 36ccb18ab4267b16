package cmd

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/runner/service"
	"github.com/futures-cli/futures/runner/service/store"
)

// Completion of the executor service's names and ids. Both only read: they
// start no service and create no directory or store.

// serviceNames returns the names of this user's services that begin with
// typed: the directories under the state directory's futures/ (where
// each service keeps its store, $XDG_STATE_HOME/futures/NAME) whose name
// can name a service, sorted.
func serviceNames(typed string) []string {
	p, err := service.Resolve(service.DefaultName)
	if err != nil {
		return nil
	}
	entries, err := os.ReadDir(filepath.Dir(p.StateDir))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), typed) && service.ValidName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// completeServiceFlag completes the value of --service: serviceNames.
func completeServiceFlag(_ *cobra.Command, _ []string, typed string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return serviceNames(typed), cobra.ShellCompDirectiveNoFileComp
}

// completeIDs returns the ids (%N, in id order) of the futures in the store
// of service name ("": $FUTURES_SERVICE, else default), or none when it
// has no store. It reads the store only: a service that never ran gets no
// directory.
func completeIDs(name string) []string {
	p, err := service.Resolve(name)
	if err != nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(p.StateDir, store.DBName)); err != nil {
		return nil
	}
	st, err := store.Open(p.StateDir)
	if err != nil {
		return nil
	}
	defer st.Close()
	fs, err := st.List(context.Background(), store.Filter{})
	if err != nil {
		return nil
	}
	ids := make([]string, 0, len(fs))
	for _, f := range fs {
		ids = append(ids, "%"+strconv.FormatInt(f.ID, 10))
	}
	return ids
}

// completeIDArgs is the ValidArgsFunction of a command whose arguments are
// ids (%N): the ids of the service its --service flag names that begin
// with typed, the ones already given left out.
func completeIDArgs(cmd *cobra.Command, args []string, typed string) ([]cobra.Completion, cobra.ShellCompDirective) {
	name := ""
	if f := cmd.Flags().Lookup("service"); f != nil {
		name = f.Value.String()
	}
	given := map[string]bool{}
	for _, a := range args {
		given[a] = true
	}
	var out []cobra.Completion
	for _, id := range completeIDs(name) {
		if strings.HasPrefix(id, typed) && !given[id] {
			out = append(out, id)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

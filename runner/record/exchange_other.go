//go:build !linux && !darwin

package record

import "errors"

// errNoExchange says that this system cannot swap two paths at once.
var errNoExchange = errors.New("no atomic exchange of two paths on this system")

// exchangeDirs reports that this system cannot swap two paths at once
// (FreeBSD has no renameat2): replaceDir removes, then renames.
func exchangeDirs(a, b string) error { return errNoExchange }

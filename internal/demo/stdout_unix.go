//go:build unix

package demo

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// QuietStdout sends the process's file descriptor 1 to /dev/null and
// returns a file on the real standard output, and a function that undoes
// the swap. kumo's services log every request to os.Stdout through loggers
// built at init, which no option silences; the demo's own output goes to
// the returned file so it stays readable.
func QuietStdout() (*os.File, func(), error) {
	saved, err := unix.Dup(1)
	if err != nil {
		return nil, nil, fmt.Errorf("duplicate stdout: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		_ = unix.Close(saved)
		return nil, nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer null.Close()
	if err := unix.Dup2(int(null.Fd()), 1); err != nil {
		_ = unix.Close(saved)
		return nil, nil, fmt.Errorf("redirect stdout: %w", err)
	}
	out := os.NewFile(uintptr(saved), "/dev/stdout")
	restore := func() {
		_ = unix.Dup2(saved, 1)
		_ = out.Close()
	}
	return out, restore, nil
}

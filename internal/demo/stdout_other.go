//go:build !unix

package demo

import "os"

// QuietStdout leaves standard output as it is on systems without dup2:
// kumo's request logs then mix with the demo's output.
func QuietStdout() (*os.File, func(), error) {
	return os.Stdout, func() {}, nil
}

package cli

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// readBuildInfo is debug.ReadBuildInfo, replaceable in tests.
var readBuildInfo = debug.ReadBuildInfo

// version describes the running binary from what the Go toolchain embedded
// in it: the module version (a tag or pseudo-version when installed with
// `go install …@version`, "(devel)" when built from a checkout), and the
// VCS revision, its time and whether the tree had uncommitted changes. No
// version is typed by hand anywhere.
func version() string {
	bi, ok := readBuildInfo()
	if !ok {
		return "unknown (built without module support)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var parts []string
	if rev := settings["vcs.revision"]; rev != "" {
		parts = append(parts, "commit "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		parts = append(parts, t)
	}
	if settings["vcs.modified"] == "true" {
		parts = append(parts, "with uncommitted changes")
	}
	parts = append(parts, bi.GoVersion)
	return fmt.Sprintf("%s (%s)", v, strings.Join(parts, ", "))
}

package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFromBuildInfo(t *testing.T) {
	defer func(f func() (*debug.BuildInfo, bool)) { readBuildInfo = f }(readBuildInfo)
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"go install @tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			"trailguard v1.2.0 (go1.26.8)\n"},
		{"checkout with changes", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "74b3a303d389eb6d8e6b6c2728a9a5cd40579bcf"},
			{Key: "vcs.time", Value: "2026-11-30T07:41:37Z"}, {Key: "vcs.modified", Value: "true"}}},
			"trailguard (devel) (commit 74b3a303d389eb6d8e6b6c2728a9a5cd40579bcf, 2026-11-30T07:41:37Z, with uncommitted changes, go1.26.8)\n"},
	} {
		readBuildInfo = func() (*debug.BuildInfo, bool) { return tc.bi, true }
		e, out, errb := testEnv(false, nil)
		if code := run(t.Context(), []string{"--version"}, e); code != ExitOK || out.String() != tc.want {
			t.Errorf("%s: exit %d, %q (stderr %q), want %q", tc.name, code, out, errb, tc.want)
		}
	}
	readBuildInfo = func() (*debug.BuildInfo, bool) { return nil, false }
	if v := version(); !strings.HasPrefix(v, "unknown") {
		t.Errorf("without build info: %q", v)
	}
}

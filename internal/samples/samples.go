// Package samples is trailguard's corpus of real-shaped events: one JSON file
// per scenario, each a full EventBridge envelope exactly as AWS delivers a
// CloudTrail "AWS API Call via CloudTrail" event to a rule target.
//
// There is one corpus, shared by the unit tests, the component tests, the
// end-to-end test and the offline demo, so that every layer is exercised with
// the same inputs and a shape fixed once is fixed everywhere. The files are
// embedded so that the demo binary carries them and needs no checkout.
//
// Every sample uses documentation placeholders only: account 123456789012
// (111122223333 for a foreign account), example access keys, and addresses
// from 198.51.100.0/24 and 203.0.113.0/24. The protected trail is
// "management-trail" in us-east-1.
//
// Scenario files live in testdata/*.json and are listed by Names. Inputs that
// a parser must reject without panicking (not JSON, wrong shape, truncated,
// nested beyond the decoder's depth limit, ...) live in testdata/malformed and
// are returned by Malformed.
package samples

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed testdata/*.json testdata/malformed/*
var files embed.FS

const (
	scenarioDir  = "testdata"
	malformedDir = "testdata/malformed"
)

// Names returns the scenario names (file names without ".json"), sorted.
// Malformed inputs are not included.
func Names() []string {
	entries, err := fs.ReadDir(files, scenarioDir)
	if err != nil {
		panic(fmt.Sprintf("samples: embedded corpus unreadable: %v", err))
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

// Event returns the raw bytes of the named scenario, e.g.
// Event("stoplogging-iamuser"). An unknown name yields an error that wraps
// fs.ErrNotExist. The returned slice is a fresh copy the caller may modify.
func Event(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("samples: no event %q: %w", name, fs.ErrNotExist)
	}
	b, err := fs.ReadFile(files, path.Join(scenarioDir, name+".json"))
	if err != nil {
		return nil, fmt.Errorf("samples: no event %q: %w", name, fs.ErrNotExist)
	}
	return b, nil
}

// Malformed returns the malformed inputs keyed by file name without its
// extension ("not-json", "truncated", "huge-nesting", ...). Each call returns
// fresh copies.
func Malformed() map[string][]byte {
	entries, err := fs.ReadDir(files, malformedDir)
	if err != nil {
		panic(fmt.Sprintf("samples: embedded corpus unreadable: %v", err))
	}
	out := make(map[string][]byte, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(files, path.Join(malformedDir, e.Name()))
		if err != nil {
			panic(fmt.Sprintf("samples: embedded corpus unreadable: %v", err))
		}
		out[strings.TrimSuffix(e.Name(), path.Ext(e.Name()))] = b
	}
	return out
}

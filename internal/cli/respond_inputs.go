package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// eventFileSuffixes are the files a directory is read for: events as
// people save them, and CloudTrail's own log files (.json.gz).
var eventFileSuffixes = []string{".json", ".jsonl", ".ndjson", ".gz"}

// expandInputs turns respond's arguments into the files to read, in order:
// - stays stdin, a glob is expanded (for shells that did not), a directory
// is walked for event files in lexical order. A name that is neither is
// kept, so that opening it reports what is wrong with it.
func expandInputs(names []string) ([]string, error) {
	var out []string
	for _, name := range names {
		if name == "-" {
			out = append(out, name)
			continue
		}
		matches := []string{name}
		if strings.ContainsAny(name, "*?[") {
			m, err := filepath.Glob(name)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("%s: no file matches", name)
			}
			matches = m
		}
		for _, m := range matches {
			files, err := eventFiles(m)
			if err != nil {
				return nil, err
			}
			out = append(out, files...)
		}
	}
	return out, nil
}

// eventFiles is name itself, or the event files under it if it is a directory.
func eventFiles(name string) ([]string, error) {
	if st, err := os.Stat(name); err != nil || !st.IsDir() {
		return []string{name}, nil
	}
	var files []string
	err := filepath.WalkDir(name, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && hasEventSuffix(d.Name()) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", name, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no event files (%s) in the directory", name, strings.Join(eventFileSuffixes, ", "))
	}
	return files, nil
}

func hasEventSuffix(name string) bool {
	for _, s := range eventFileSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

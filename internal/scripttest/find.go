package scripttest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Find lists the test files that arguments name: a file is taken as it
// is; a folder is searched for *_test.lua files (sorted; folders whose name
// starts with a dot are skipped). No argument means the folder scripts,
// when there is one (else there are no files). An argument that cannot be
// read is an error.
func Find(args []string) ([]string, error) {
	if len(args) == 0 {
		if _, err := os.Stat("scripts"); err != nil {
			return nil, nil
		}
		args = []string{"scripts"}
	}
	var files []string
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("test: cannot read %s: %w", arg, err)
		}
		if !st.IsDir() {
			files = append(files, arg)
			continue
		}
		var found []string
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != arg && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), "_test.lua") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("test: cannot search %s: %w", arg, err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// findLib is the script library for a test file: lib/ beside the file;
// else the lib folder the file sits in (a test of scripts/lib/money.lua
// lives in scripts/lib); else lib/ in the nearest folder above, up to the
// working directory (never beyond it: /lib is not a script library).
func findLib(file string) string {
	isDir := func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && st.IsDir()
	}
	cwd, err := filepath.Abs(".")
	if err != nil {
		return ""
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(cwd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return ""
	}
	if isDir(filepath.Join(dir, "lib")) {
		return rel(filepath.Join(dir, "lib"))
	}
	for d := dir; filepath.Dir(d) != d; d = filepath.Dir(d) {
		if filepath.Base(d) == "lib" {
			return rel(d)
		}
	}
	for d := filepath.Dir(dir); strings.HasPrefix(d, cwd) && filepath.Dir(d) != d; d = filepath.Dir(d) {
		if isDir(filepath.Join(d, "lib")) {
			return rel(filepath.Join(d, "lib"))
		}
		if d == cwd {
			break
		}
	}
	return ""
}

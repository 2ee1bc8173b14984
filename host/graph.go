package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// addDependencies adds to scripts, loaded with keys, the jobs they run after
// that were not given, from the folder of the script that names them (the
// run's --with-deps). A job that cannot be found there is left for
// CheckDependencies to report.
func addDependencies(scripts []*Script, keys []string) []*Script {
	byName := map[string]bool{}
	for _, s := range scripts {
		byName[s.Name] = true
	}
	for i := 0; i < len(scripts); i++ {
		s := scripts[i]
		for _, dep := range s.After {
			if byName[dep] {
				continue
			}
			p := filepath.Join(filepath.Dir(s.Path), dep+".lua")
			if _, err := os.Stat(p); err != nil || IsTestFile(p) {
				continue // CheckDependencies says why
			}
			d, err := LoadScript(p, keys)
			if err != nil {
				d = &Script{Name: dep, Path: p, err: err}
			}
			byName[dep] = true
			scripts = append(scripts, d)
		}
	}
	return scripts
}

// CheckDependencies checks the graph of the scripts' `after` headers: every
// job named is among the scripts, and no job runs after itself, directly or
// not. The error names the script and header line, or the cycle.
func CheckDependencies(scripts []*Script) error {
	byName := map[string]*Script{}
	for _, s := range scripts {
		byName[s.Name] = s
	}
	for _, s := range scripts {
		for _, dep := range s.After {
			switch {
			case IsTestFile(dep + ".lua"):
				return fmt.Errorf("%s:%d: %s runs after %s, a test file: test files are not jobs (etlhost test runs them)", s.Path, s.AfterLine, s.Name, dep)
			case byName[dep] == nil:
				return fmt.Errorf("%s:%d: %s runs after %s, which is not among the scripts given: add %s to the command (etlhost run --with-deps takes it from %s)",
					s.Path, s.AfterLine, s.Name, dep, filepath.Join(filepath.Dir(s.Path), dep+".lua"), filepath.Dir(s.Path)+string(filepath.Separator))
			}
		}
	}
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []*Script
	var visit func(s *Script) error
	visit = func(s *Script) error {
		switch state[s.Name] {
		case done:
			return nil
		case onPath:
			i := len(path) - 1
			for path[i] != s {
				i--
			}
			cycle := append(append([]*Script{}, path[i:]...), s)
			names := make([]string, len(cycle))
			var where []string
			for j, c := range cycle {
				names[j] = c.Name
				if j < len(cycle)-1 {
					where = append(where, fmt.Sprintf("%s:%d", c.Path, c.AfterLine))
				}
			}
			return fmt.Errorf("a dependency cycle: %s (the after headers at %s)", strings.Join(names, " -> "), strings.Join(where, ", "))
		}
		state[s.Name] = onPath
		path = append(path, s)
		for _, dep := range s.After {
			if err := visit(byName[dep]); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[s.Name] = done
		return nil
	}
	for _, s := range scripts {
		if err := visit(s); err != nil {
			return err
		}
	}
	return nil
}

package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// moduleNameRe accepts dotted Lua identifiers only ("lib_a.dates"): no
// slashes, no "..", nothing a path could hide in.
var moduleNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// libLoader finds and compiles modules of the script library folder. It is
// shared by all scripts of a run: each module is compiled once, and every
// state builds its own function from the shared, read-only prototype.
type libLoader struct {
	dir  string
	fsys fs.FS
	root *os.Root // nil when fsys is not a folder of the disk

	mu    sync.Mutex
	cache map[string]libEntry
}

type libEntry struct {
	proto *lua.FunctionProto
	err   error
}

// newLibLoader opens dir through os.Root, which refuses paths and symlinks
// that lead outside it. A missing folder gives a nil loader and no error.
func newLibLoader(dir string) (*libLoader, error) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the script library %s: %w", dir, err)
	}
	return &libLoader{dir: dir, fsys: root.FS(), root: root, cache: map[string]libEntry{}}, nil
}

// newLibLoaderFS reads the library from fsys: the files a worker's job was
// enqueued with (see Runner.LibFS).
func newLibLoaderFS(fsys fs.FS) *libLoader {
	return &libLoader{dir: "lib", fsys: fsys, cache: map[string]libEntry{}}
}

func (l *libLoader) close() {
	if l != nil && l.root != nil {
		l.root.Close()
	}
}

func (l *libLoader) load(name string) (*lua.FunctionProto, error) {
	if !moduleNameRe.MatchString(name) {
		return nil, fmt.Errorf("bad module name: use dotted Lua names like \"dates\" or \"fmt.money\", not paths")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.cache[name]; ok {
		return e.proto, e.err
	}
	rel := strings.ReplaceAll(name, ".", "/") + ".lua"
	chunk := "lib/" + rel
	var e libEntry
	src, err := fs.ReadFile(l.fsys, rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.err = fmt.Errorf("not found in the script library (no %s)", chunk)
	case err != nil:
		e.err = fmt.Errorf("cannot read %s: %w", chunk, stripRoot(err, l.dir))
	default:
		e.proto, e.err = compile(chunk, src)
	}
	l.cache[name] = e
	return e.proto, e.err
}

// stripRoot keeps host paths out of messages shown to scripts.
func stripRoot(err error, dir string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return errors.New(pe.Err.Error())
	}
	return errors.New(strings.ReplaceAll(err.Error(), dir, "lib"))
}

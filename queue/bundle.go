package queue

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Limits of what one enqueue stores of a script library.
const (
	MaxLibFiles = 2000
	MaxLibBytes = 32 << 20
)

// Bundle is what a worker runs for a job: the script's text and every file
// of the script library it can require, as they were when it was enqueued.
// It is stored once per content (its Hash) in the table bundle.
type Bundle struct {
	Source []byte
	// Lib holds the library's .lua files by their path under lib/
	// ("dates.lua", "fmt/money.lua").
	Lib map[string][]byte
}

// Hash is the SHA-256 of the script and of every library file, names
// included, in name order: two enqueues of the same files share a bundle.
func (b *Bundle) Hash() string {
	h := sha256.New()
	write := func(name string, data []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(name)))
		h.Write(n[:])
		h.Write([]byte(name))
		binary.BigEndian.PutUint64(n[:], uint64(len(data)))
		h.Write(n[:])
		h.Write(data)
	}
	write("", b.Source)
	for _, name := range b.libNames() {
		write(name, b.Lib[name])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (b *Bundle) libNames() []string {
	names := make([]string, 0, len(b.Lib))
	for name := range b.Lib {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// LibFS is the library as the host's loader reads it (see host.Runner.LibFS).
func (b *Bundle) LibFS() fs.FS { return libFS(b.Lib) }

// encode stores the bundle as a zip archive: the script as "script.lua",
// the library under "lib/". Times are fixed so equal bundles encode alike.
func (b *Bundle) encode() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	if err := add("script.lua", b.Source); err != nil {
		return nil, err
	}
	for _, name := range b.libNames() {
		if err := add("lib/"+name, b.Lib[name]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeBundle(data []byte) (*Bundle, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("the stored bundle is not a zip archive: %w", err)
	}
	b := &Bundle{Lib: map[string][]byte{}}
	var total int64
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(rc, MaxLibBytes+1-total))
		rc.Close()
		if err != nil {
			return nil, err
		}
		if total += int64(len(data)); total > MaxLibBytes {
			return nil, fmt.Errorf("the stored bundle is larger than %d bytes", MaxLibBytes)
		}
		switch name := f.Name; {
		case name == "script.lua":
			b.Source = data
		case strings.HasPrefix(name, "lib/"):
			b.Lib[strings.TrimPrefix(name, "lib/")] = data
		}
	}
	if b.Source == nil {
		return nil, errors.New("the stored bundle has no script")
	}
	return b, nil
}

// ReadLib reads the .lua files of the library folder dir, through os.Root
// so that no symlink leads outside it. A missing folder is an empty library.
func ReadLib(dir string) (map[string][]byte, error) {
	lib := map[string][]byte{}
	if dir == "" {
		return lib, nil
	}
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return lib, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the script library %s: %w", dir, err)
	}
	defer root.Close()
	var total int
	err = fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(name) != ".lua" || strings.HasSuffix(name, "_test.lua") {
			return nil
		}
		if len(lib) == MaxLibFiles {
			return fmt.Errorf("more than %d files: a library that large is not enqueued", MaxLibFiles)
		}
		data, err := root.ReadFile(name)
		if err != nil {
			return err
		}
		if total += len(data); total > MaxLibBytes {
			return fmt.Errorf("more than %d bytes: a library that large is not enqueued", MaxLibBytes)
		}
		lib[name] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("the script library %s: %w", dir, err)
	}
	return lib, nil
}

// storeBundle keeps b under its hash (once per content) and returns the hash.
func storeBundle(ctx context.Context, tx pgx.Tx, b *Bundle) (string, error) {
	hash := b.Hash()
	data, err := b.encode()
	if err != nil {
		return "", err
	}
	_, err = tx.Exec(ctx, `INSERT INTO `+Schema+`.bundle (hash, files) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING`, hash, data)
	if err != nil {
		return "", fmt.Errorf("cannot store the script: %w", err)
	}
	return hash, nil
}

// loadBundle reads the bundle of hash and checks it is the one enqueued.
func loadBundle(ctx context.Context, pool *pgxpool.Pool, hash string) (*Bundle, error) {
	var data []byte
	err := pool.QueryRow(ctx, `SELECT files FROM `+Schema+`.bundle WHERE hash = $1`, hash).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("the script enqueued (bundle %.12s) is not in %s.bundle", hash, Schema)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the script enqueued: %w", err)
	}
	b, err := decodeBundle(data)
	if err != nil {
		return nil, err
	}
	if got := b.Hash(); got != hash {
		return nil, fmt.Errorf("the script enqueued does not match its hash (%.12s, stored %.12s): refusing to run it", got, hash)
	}
	return b, nil
}

// libFS serves a library held in memory to the host's loader.
type libFS map[string][]byte

func (l libFS) Open(name string) (fs.File, error) {
	data, err := l.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &libFile{Reader: bytes.NewReader(data), name: path.Base(name)}, nil
}

// libFile is one file of a libFS: regular, read-only.
type libFile struct {
	*bytes.Reader
	name string
}

func (f *libFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *libFile) Close() error               { return nil }
func (f *libFile) Name() string               { return f.name }
func (f *libFile) Mode() fs.FileMode          { return 0o444 }
func (f *libFile) ModTime() time.Time         { return time.Time{} }
func (f *libFile) IsDir() bool                { return false }
func (f *libFile) Sys() any                   { return nil }

// ReadFile is what the host's loader calls (fs.ReadFileFS).
func (l libFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	data, ok := l[name]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(data), nil
}

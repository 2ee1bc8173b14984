package scripttest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindLib(t *testing.T) {
	// Not parallel: it changes the working directory.
	dir := t.TempDir()
	for _, d := range []string{"scripts/lib/fmt", "scripts/tests/unit", "lib"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(filepath.Join(dir, "scripts"))
	cases := map[string]string{
		"x_test.lua":             "lib",
		"lib/money_test.lua":     "lib",
		"lib/fmt/money_test.lua": "lib",
		"tests/unit/x_test.lua":  "lib",
		// Outside the working directory, only lib/ beside the file or
		// a lib folder holding it count: never ../lib of a parent.
		filepath.Join(dir, "x_test.lua"):             filepath.Join(dir, "lib"),
		filepath.Join(dir, "scripts", "x_test.lua"):  "lib",
		filepath.Join(t.TempDir(), "other_test.lua"): "",
	}
	for file, want := range cases {
		if got := findLib(file); got != want {
			t.Errorf("findLib(%s) = %q, want %q", file, got, want)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/internal/scripttest"
)

// stubFile is one LuaLS definition file written by `etlhost stubs`.
type stubFile struct {
	File string // file name in the stubs folder
	Text string
}

// stubFiles lists every module's stub (luaModules, in the order of the
// README's module table), then the definitions of the `t` object of
// `etlhost test`. Each module package embeds its own stub
// (luabind/<name>/<name>.lua), so the file the module's tests check is the
// file editors get.
func stubFiles() []stubFile {
	var files []stubFile
	for _, m := range luaModules {
		files = append(files, stubFile{m.name + ".lua", m.stub})
	}
	return append(files, stubFile{"etlhost_testing.lua", scripttest.Stub})
}

func (a *App) stubsCommand() *cli.Command {
	return &cli.Command{
		Name:      "stubs",
		Usage:     "write LuaLS definition files of etlhost's modules, and a .luarc.json, for editors",
		ArgsUsage: "[DIR]",
		Description: `Writes one LuaLS definition file (---@meta) per module (log, json, etl, date, task, shared,
pg, odoo, and the t object of 'etlhost test') into DIR (default: .luals), replacing older
copies, and a .luarc.json in the workspace folder (--root, default: the current folder)
that points the Lua language server at them: Lua 5.1, no io/debug/package, the script
library on the require path. An existing .luarc.json keeps its settings; the stubs folder
and the library path are added to it.

VS Code (extension "Lua" by sumneko) and Neovim (lua_ls) read .luarc.json at the
workspace root: open the folder holding it and scripts complete and type-check.

Example:
   etlhost stubs            # .luals/*.lua and ./.luarc.json
   etlhost stubs --lib etl/lib .editor/lua`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: ".", Usage: "the workspace `FOLDER` the editor opens; .luarc.json goes there"},
			&cli.StringFlag{Name: "lib", Value: "scripts/lib", Usage: "the script library `FOLDER`, relative to --root, for require(\"x\") to find lib/x.lua"},
			&cli.BoolFlag{Name: "no-luarc", Usage: "write the stubs only"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 1 {
				return usageErr("stubs: one folder at most, got %d", c.Args().Len())
			}
			dir := c.Args().First()
			if dir == "" {
				dir = ".luals"
			}
			if err := writeStubs(dir); err != nil {
				return &exitError{code: ExitFailed, err: err}
			}
			fmt.Fprintf(a.Stderr, "wrote %d definition files to %s\n", len(stubFiles()), dir)
			if c.Bool("no-luarc") {
				return nil
			}
			root := c.String("root")
			lib, err := filepath.Rel(root, dir)
			if err != nil {
				lib, _ = filepath.Abs(dir)
			}
			path := filepath.Join(root, ".luarc.json")
			merged, err := writeLuarc(path, filepath.ToSlash(lib), filepath.ToSlash(c.String("lib")))
			if err != nil {
				return &exitError{code: ExitFailed, err: err}
			}
			if merged {
				fmt.Fprintf(a.Stderr, "updated %s (kept its settings; added the stubs folder and the library path)\n", path)
			} else {
				fmt.Fprintf(a.Stderr, "wrote %s\n", path)
			}
			return nil
		},
	}
}

// writeStubs writes every stub file into dir, creating it.
func writeStubs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the stubs folder: %w", err)
	}
	for _, f := range stubFiles() {
		if err := os.WriteFile(filepath.Join(dir, f.File), []byte(f.Text), 0o644); err != nil {
			return fmt.Errorf("cannot write the stub %s: %w", f.File, err)
		}
	}
	return nil
}

// luarcDefaults are the settings etlhost's sandbox implies: Lua 5.1
// (gopher-lua), no io, debug or package (the sandbox removes them), and
// require resolving the script library.
func luarcDefaults(stubDir, lib string) map[string]any {
	return map[string]any{
		"$schema":         "https://raw.githubusercontent.com/LuaLS/vscode-lua/master/setting/schema.json",
		"runtime.version": "Lua 5.1",
		"runtime.path":    []any{"?.lua", "?/init.lua", lib + "/?.lua", lib + "/?/init.lua"},
		"runtime.builtin": map[string]any{
			"io": "disable", "debug": "disable", "package": "disable", "utf8": "disable",
			"bit32": "disable", "ffi": "disable", "jit": "disable",
		},
		"workspace.library":         []any{stubDir},
		"workspace.checkThirdParty": false,
	}
}

// writeLuarc writes .luarc.json at path, or merges into the one already
// there: existing settings win, except that the stubs folder and library
// path are added to their lists when missing. It says whether it merged.
func writeLuarc(path, stubDir, lib string) (bool, error) {
	want := luarcDefaults(stubDir, lib)
	cur := map[string]any{}
	data, err := os.ReadFile(path)
	merged := err == nil
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &cur); err != nil {
			return false, fmt.Errorf("%s is not valid JSON (fix or remove it, then run again): %w", path, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("cannot read %s: %w", path, err)
	}
	// LuaLS accepts both "workspace.library": [...] and
	// "workspace": {"library": [...]}; edit whichever the file uses.
	for key, v := range want {
		list, isList := v.([]any)
		section, sub, dotted := cutKey(key)
		var holder map[string]any = cur
		k := key
		if dotted {
			if nested, ok := cur[section].(map[string]any); ok {
				holder, k = nested, sub
			}
		}
		old, exists := holder[k]
		switch {
		case !exists:
			holder[k] = v
		case isList:
			oldList, ok := old.([]any)
			if !ok {
				continue
			}
			for _, item := range list {
				if !slices.Contains(oldList, item) {
					oldList = append(oldList, item)
				}
			}
			holder[k] = oldList
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cur); err != nil {
		return false, err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return false, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return merged, nil
}

func cutKey(key string) (section, sub string, ok bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			return key[:i], key[i+1:], true
		}
	}
	return "", "", false
}

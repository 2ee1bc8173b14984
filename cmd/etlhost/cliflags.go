package main

import (
	"flag"
	"sync"

	"github.com/urfave/cli/v2"
)

var shareFlags sync.Once

// shareHelpAndVersionFlags makes urfave/cli's --help and --version flags
// safe to share. The library keeps them in package variables (cli.HelpFlag,
// cli.VersionFlag) and writes to a flag each time a command's flags are
// parsed (Apply records its default): two Apps running at once in one
// process, as the in-process tests do, would race on them. The wrappers
// apply a copy instead: the flag set still gets the flag, which is all the
// library reads back. It runs once, before the first App is built, so no
// App ever sees the variables change. Every other flag is built afresh for
// each App and needs nothing of the kind.
func shareHelpAndVersionFlags() {
	shareFlags.Do(func() {
		if f, ok := cli.HelpFlag.(*cli.BoolFlag); ok {
			cli.HelpFlag = &sharedBoolFlag{f}
		}
		if f, ok := cli.VersionFlag.(*cli.BoolFlag); ok {
			cli.VersionFlag = &sharedBoolFlag{f}
		}
	})
}

// sharedBoolFlag is a bool flag kept in a package variable.
type sharedBoolFlag struct{ *cli.BoolFlag }

func (f *sharedBoolFlag) Apply(set *flag.FlagSet) error {
	c := *f.BoolFlag
	return c.Apply(set)
}

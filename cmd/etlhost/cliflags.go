package main

import (
	"flag"

	"github.com/urfave/cli/v2"
)

// urfave/cli keeps --help and --version in package variables and writes
// to them each time a command's flags are parsed (BoolFlag.Apply records
// its default). Two Apps running at once in one process, as the in-process
// tests do, race on them. These wrappers apply a copy instead: the flag set
// still gets "help"/"version", which is all the library reads back.
func init() {
	if f, ok := cli.HelpFlag.(*cli.BoolFlag); ok {
		cli.HelpFlag = &copyOnApply{f}
	}
	if f, ok := cli.VersionFlag.(*cli.BoolFlag); ok {
		cli.VersionFlag = &copyOnApply{f}
	}
}

type copyOnApply struct{ *cli.BoolFlag }

func (f *copyOnApply) Apply(set *flag.FlagSet) error {
	c := *f.BoolFlag
	return c.Apply(set)
}

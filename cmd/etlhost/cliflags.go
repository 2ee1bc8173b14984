package main

import (
	"flag"

	"github.com/urfave/cli/v2"
)

// urfave/cli writes to a flag each time a command's flags are parsed
// (Apply records its default). Flags kept in package variables, as --help,
// --version and the flags of runExtensions are, are shared by every App:
// two Apps running at once in one process, as the in-process tests do,
// race on them. These wrappers apply a copy instead: the flag set still
// gets the flag, which is all the library reads back.
func init() {
	if f, ok := cli.HelpFlag.(*cli.BoolFlag); ok {
		cli.HelpFlag = sharedBool(f)
	}
	if f, ok := cli.VersionFlag.(*cli.BoolFlag); ok {
		cli.VersionFlag = sharedBool(f)
	}
}

type sharedBoolFlag struct{ *cli.BoolFlag }

// sharedBool wraps a bool flag kept in a package variable.
func sharedBool(f *cli.BoolFlag) cli.Flag { return &sharedBoolFlag{f} }

func (f *sharedBoolFlag) Apply(set *flag.FlagSet) error {
	c := *f.BoolFlag
	return c.Apply(set)
}

type sharedStringFlag struct{ *cli.StringFlag }

// sharedString wraps a string flag kept in a package variable.
func sharedString(f *cli.StringFlag) cli.Flag { return &sharedStringFlag{f} }

func (f *sharedStringFlag) Apply(set *flag.FlagSet) error {
	c := *f.StringFlag
	return c.Apply(set)
}

type sharedIntFlag struct{ *cli.IntFlag }

// sharedInt wraps an int flag kept in a package variable.
func sharedInt(f *cli.IntFlag) cli.Flag { return &sharedIntFlag{f} }

func (f *sharedIntFlag) Apply(set *flag.FlagSet) error {
	c := *f.IntFlag
	return c.Apply(set)
}

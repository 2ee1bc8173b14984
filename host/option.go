package host

// Source is where a setting came from. Settings are decided in one order,
// k6's: a command-line flag beats the environment, which beats the script's
// header, which beats the configuration file, which beats the default.
type Source int

// Sources, lowest first.
const (
	FromDefault Source = iota
	FromConfig
	FromHeader
	FromEnv
	FromFlag
)

func (s Source) String() string {
	return [...]string{"default", "configuration file", "script header", "environment", "command line"}[s]
}

// Setting is a value and where it came from.
type Setting[T any] struct {
	Value T
	From  Source
	// Set tells a setting given from one that was not (the zero value).
	Set bool
}

// Given returns a setting of value from source.
func Given[T any](value T, from Source) Setting[T] {
	return Setting[T]{Value: value, From: from, Set: true}
}

// Pick returns, of the settings that are set, the one from the highest
// source (the first of equals); the zero Setting when none is.
func Pick[T any](settings ...Setting[T]) Setting[T] {
	var best Setting[T]
	for _, s := range settings {
		if s.Set && (!best.Set || s.From > best.From) {
			best = s
		}
	}
	return best
}

// Knob names a setting the ways a user can set it, for the message of a
// limit that stopped a script: it says where the limit came from and, for a
// default, how to change it.
type Knob struct {
	Flag   string // "--timeout"
	Env    string // "ETLHOST_TIMEOUT"
	Config string // "[run] timeout"
	Header string // "timeout" ("": no header key)
	// Example is a value to show in the hint of a default ("30m").
	Example string
}

// Knobs of the limits the runner applies.
var (
	TimeoutKnob   = Knob{Flag: "--timeout", Env: "ETLHOST_TIMEOUT", Config: "[run] timeout", Header: "timeout", Example: "30m"}
	MaxMemoryKnob = Knob{Flag: "--max-memory", Env: "ETLHOST_MAX_MEMORY", Config: "[run] max_memory", Example: "2GiB"}
)

// Origin says where a setting of k came from: the command line, the
// environment, the script header (where is its file:line), the
// configuration file, or the default.
func (k Knob) Origin(from Source, where string) string {
	switch from {
	case FromFlag:
		return k.Flag + " on the command line"
	case FromEnv:
		return "$" + k.Env + " in the environment"
	case FromHeader:
		return "the script header, " + where
	case FromConfig:
		return k.Config + " in the configuration file"
	}
	hint := k.Flag + " " + k.Example
	if k.Header != "" {
		hint += " or a `--! " + k.Header + " = " + k.Example + "` header"
	}
	return "the default; to change it: " + hint
}

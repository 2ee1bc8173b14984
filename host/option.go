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

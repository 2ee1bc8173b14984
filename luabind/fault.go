package luabind

import lua "github.com/yuin/gopher-lua"

// Fault is how a module classifies an error it raised into a script, so
// that the host can tell a failure worth running the job again for from
// the rest (see Env.Raised). A script cannot make one: only binding code
// records them, and the host trusts the classification only of the very
// error value a binding raised.
type Fault struct {
	// Transient: the failure came from outside the script and may pass by
	// itself: a connection refused, reset or lost; Odoo answering HTTP 5xx
	// or 429, or a call running out of its own time; PostgreSQL failing a
	// transaction on serialization or a deadlock, shutting down, or not
	// accepting connections yet. Never a script error, bad SQL, an Odoo
	// fault about data or access, a memory limit or the job's own timeout.
	Transient bool
	// Reason says what failed, in a few words, for the report:
	// "odoo: connection refused", "pg: deadlock detected (40P01)".
	Reason string
}

// maxFaults bounds the error values an Env remembers: a script that
// catches errors in a loop keeps only the latest ones.
const maxFaults = 64

type raised struct {
	v lua.LValue
	f Fault
}

// Raised records the classification of v, an error value (a table) a
// binding is about to raise into the script. Call it just before raising.
func (e *Env) Raised(v lua.LValue, f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.faults) == maxFaults {
		copy(e.faults, e.faults[1:])
		e.faults = e.faults[:maxFaults-1]
	}
	e.faults = append(e.faults, raised{v, f})
}

// FaultOf returns the classification of v when v is an error value a
// binding raised (the very value: a copy, or a string made from it, is
// not). The host asks it of the error a script ended with.
func (e *Env) FaultOf(v lua.LValue) (Fault, bool) {
	if _, ok := v.(*lua.LTable); !ok {
		return Fault{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.faults) - 1; i >= 0; i-- {
		if e.faults[i].v == v {
			return e.faults[i].f, true
		}
	}
	return Fault{}, false
}

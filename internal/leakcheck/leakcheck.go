// Package leakcheck fails a test binary whose package left goroutines
// running after its tests (a handler still hanging, a child never waited
// for). Only tests import it.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Leaked returns the stacks of the running goroutines whose frames name
// pkg ("odoo/odoosim."), the test binary's TestMain excepted.
func Leaked(pkg string) []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	main := pkg[strings.LastIndex(pkg[:len(pkg)-1], "/")+1:] + "TestMain"
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, pkg) && !strings.Contains(g, main) {
			out = append(out, g)
		}
	}
	return out
}

// Check waits up to two seconds for the goroutines of pkg to end and
// returns 1, after printing their stacks, when some are still running;
// code otherwise. Call it at the end of TestMain with m.Run's code.
func Check(code int, pkg string) int {
	if code != 0 {
		return code
	}
	var leaked []string
	for i := 0; i < 100; i++ {
		if leaked = Leaked(pkg); len(leaked) == 0 {
			return code
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", strings.Join(leaked, "\n\n"))
	return 1
}

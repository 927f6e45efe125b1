// Package leaktest fails a package's tests when they leave a goroutine of
// this module running: a sender whose Run did not return, a
// context.AfterFunc not stopped, a reader left blocked on a socket.
//
//	func TestMain(m *testing.M) { leaktest.Main(m) }
package leaktest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// module marks the goroutines to look at: those that run this module's
// code or were started by it. Others (the runtime's, the testing
// package's) are not the tests' to stop.
const module = "github.com/imustream/imustream/"

// wait is how long the goroutines get to end after the tests; a test
// changes it.
var wait = 5 * time.Second

// Main runs the tests and exits. If they passed but a goroutine of this
// module is still alive up to 5 s later, it prints their stacks and exits
// with status 1.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain that has something to do after the tests: it
// returns the exit status instead of exiting.
func Run(m *testing.M) int {
	code := m.Run()
	if code != 0 {
		return code // a failed test may leave goroutines: its failure says more
	}
	if leaked := leaked(wait); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "leaktest: %d goroutines leaked by the tests:\n\n%s\n", len(leaked), strings.Join(leaked, "\n\n"))
		return 1
	}
	return 0
}

// leaked returns the stacks of the goroutines, other than the caller's,
// that run code of this module or were started by it, waiting up to d for
// them to end.
func leaked(d time.Duration) []string {
	deadline := time.Now().Add(d)
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n == len(buf) {
			buf = make([]byte, 2*len(buf)) // truncated
			continue
		}
		var leaked []string
		// The caller's goroutine comes first.
		for i, g := range strings.Split(string(buf[:n]), "\n\n") {
			if i > 0 && strings.Contains(g, module) {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(10 * time.Millisecond)
	}
}

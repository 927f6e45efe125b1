package leaktest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// childEnv makes TestChild, in a copy of this test binary, do what it says.
const childEnv = "LEAKTEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		wait = 300 * time.Millisecond
	}
	Main(m)
}

// Main, seen from outside: the exit status and what it prints. The check
// runs after the tests, in TestMain, so it is tested on a copy of this
// binary.
func TestMainExit(t *testing.T) {
	if os.Getenv("QEMU_CPU") != "" {
		t.Skip("under qemu-user (make test-arm sets QEMU_CPU): the test runs copies of its own binary, which only qemu can run")
	}
	for _, tc := range []struct {
		child  string
		code   int
		report bool
	}{
		{"leak", 1, true},
		{"late", 0, false}, // ends within the wait
		{"fail", 1, false}, // the failure is reported, not the goroutine
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+tc.child)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		_ = cmd.Run()
		code := cmd.ProcessState.ExitCode()
		report := strings.Contains(out.String(), "leaktest: 1 goroutines leaked by the tests") &&
			strings.Contains(out.String(), "leaktest.TestChild")
		if code != tc.code || report != tc.report {
			t.Errorf("%s: exit %d, report %v; want exit %d, report %v\n%s", tc.child, code, report, tc.code, tc.report, out.Bytes())
		}
	}
}

func TestChild(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "":
		t.Skip("run by TestMainExit")
	case "leak":
		go func() { select {} }()
	case "late":
		go func() { time.Sleep(100 * time.Millisecond) }()
	case "fail":
		go func() { select {} }()
		t.Fail()
	}
}

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// qemuUser names the qemu-user emulators that run this architecture's
// binaries, for tests cross-built to ARM and run with go test -exec.
var qemuUser = map[string][]string{
	"arm":   {"qemu-arm-static", "qemu-arm"},
	"arm64": {"qemu-aarch64-static", "qemu-aarch64"},
}

// emulated is set when the tests run the binary under qemu-user; timing
// checks that would measure the emulator rather than the code are relaxed,
// saying so.
var emulated bool

// emulateIfForeign makes the binary at path runnable by the tests. Under
// go test -exec qemu-… without binfmt_misc the kernel cannot exec an ARM
// binary, so it is moved aside and path becomes a script that runs it with
// the same emulator.
func emulateIfForeign(path string) error {
	err := exec.Command(path, "version").Run()
	if !errors.Is(err, syscall.ENOEXEC) {
		return nil
	}
	for _, name := range qemuUser[runtime.GOARCH] {
		qemu, lerr := exec.LookPath(name)
		if lerr != nil {
			continue
		}
		real := path + "." + runtime.GOARCH
		if err := os.Rename(path, real); err != nil {
			return err
		}
		// exec keeps one process, so signals sent by the tests reach qemu,
		// which passes them on to the daemon.
		script := fmt.Sprintf("#!/bin/sh\nexec %s %s \"$@\"\n", qemu, real)
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			return err
		}
		emulated = true
		return nil
	}
	return fmt.Errorf("cannot exec a %s binary here (%w) and no qemu-user emulator (%v) on PATH", runtime.GOARCH, err, qemuUser[runtime.GOARCH])
}

// pcSide skips a test of a control-PC command (bridge, view, discover)
// under qemu-user: those run on the build machine's architecture, where
// make test runs them natively, and the emulator would only time itself.
func pcSide(t interface{ Skip(...any) }) {
	if os.Getenv("QEMU_CPU") != "" {
		t.Skip("a control-PC command's test; make test runs it natively, not under qemu-user (QEMU_CPU set)")
	}
}

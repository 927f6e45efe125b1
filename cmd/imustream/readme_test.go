package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlocks returns the shell blocks of README.md marked
// "<!-- readme-test: … -->", in order.
func readmeBlocks(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "<!-- readme-test:") {
			continue
		}
		if !sc.Scan() || sc.Text() != "```sh" {
			t.Fatal("README: a readme-test marker not followed by a ```sh block")
		}
		var lines []string
		for sc.Scan() && sc.Text() != "```" {
			lines = append(lines, sc.Text())
		}
		blocks = append(blocks, lines)
	}
	if len(blocks) == 0 {
		t.Fatal("README has no readme-test blocks")
	}
	return blocks
}

// TestREADMEExamples runs the README's marked shell examples as written,
// in one shell, with this build as imustream, in a scratch directory, and
// checks what each line's "# -> …" comment says to expect.
func TestREADMEExamples(t *testing.T) {
	if emulated {
		t.Skip("under qemu: the examples' timing (sleep 1, nc -w1) is for a native binary")
	}
	for _, tool := range []string{"nc", "xxd", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README's examples need %s (Debian: netcat-openbsd, xxd); .ci/run installs them", tool)
		}
	}
	var script strings.Builder
	var want []string
	script.WriteString("set -e\n")
	for _, block := range readmeBlocks(t) {
		for _, line := range block {
			script.WriteString(line + "\n")
			if _, exp, ok := strings.Cut(line, "# -> "); ok {
				want = append(want, strings.TrimSpace(exp))
			}
		}
	}
	dir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(dir, "imustream")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the daemon is a job of this shell
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's examples failed: %v\n%s", err, out)
	}
	// Background lines print when they print: count, do not order.
	times := map[string]int{}
	for _, w := range want {
		times[w]++
	}
	for w, n := range times {
		if got := strings.Count(string(out), w); got < n {
			t.Errorf("README example: %q %d times in the output, want %d\n%s", w, got, n, out)
		}
	}
	for _, f := range []string{"run1.csv", "run1.csv.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the README's record left no %s: %v", f, err)
		}
	}
}

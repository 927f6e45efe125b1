package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a process the bench runs: the daemon, the baseline, a load or
// the floor probe.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and stderr is read
	err  error         // Wait's result, once done

	ready  chan string  // the daemon's control address, from its ready line
	stdout bytes.Buffer // read once done

	mu   sync.Mutex
	gcAt []int64  // CLOCK_REALTIME ns at which each GODEBUG=gctrace line came
	tail []string // the last lines of stderr, for error messages
}

// startChild runs this program (os.Executable) with args. The child dies
// with the bench (PR_SET_PDEATHSIG), so an interrupted bench leaves no
// load behind.
func startChild(name string, args []string, env ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return startProcess(name, exe, args, env...)
}

// startProcess runs the program at path as a child of the bench.
func startProcess(name, path string, args []string, env ...string) (*child, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{}), ready: make(chan string, 1)}
	cmd.Stdout = &c.stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	go c.readStderr(stderr)
	return c, nil
}

func (c *child) readStderr(r io.Reader) {
	sc := bufio.NewScanner(r)
	readySent := false
	for sc.Scan() {
		line := sc.Text()
		c.mu.Lock()
		if strings.HasPrefix(line, "gc ") && strings.Contains(line, " @") {
			c.gcAt = append(c.gcAt, time.Now().UnixNano())
		} else {
			c.tail = append(c.tail, line)
			if len(c.tail) > 20 {
				c.tail = c.tail[1:]
			}
		}
		c.mu.Unlock()
		if !readySent && strings.Contains(line, "imustream daemon ready") {
			if _, rest, ok := strings.Cut(line, " listen="); ok {
				addr, _, _ := strings.Cut(rest, " ")
				c.ready <- addr
				readySent = true
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
	c.err = c.cmd.Wait()
	close(c.done)
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// gcBetween counts the GC cycles the child reported in [from, to).
func (c *child) gcBetween(from, to int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.gcAt {
		if t >= from && t < to {
			n++
		}
	}
	return n
}

// stderrTail returns the child's last lines of output.
func (c *child) stderrTail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

// stop sends sig and waits up to wait for the exit, then kills.
func (c *child) stop(sig os.Signal, wait time.Duration) {
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
	case <-time.After(wait):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// Package natstest runs real NATS servers for tests: nats-server, at the
// version go.mod names as a tool, built once per test binary and run as
// processes on 127.0.0.1, alone or as a JetStream cluster whose nodes a
// test can SIGKILL and restart. It is test support: nothing in the
// imustream binary imports it, and the server is never linked into it.
package natstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Version is the nats-server go.mod names as a tool.
const Version = "v2.15.2"

// Binary returns the path of a nats-server binary: $NATS_SERVER if set,
// else one built from the module cache (go build of the tool go.mod
// names) once, kept in the temporary directory under its version for
// later runs. The test skips when neither works, or fails when $CI is
// set.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("NATS_SERVER"); p != "" {
			binPath = p
			return
		}
		binPath = filepath.Join(os.TempDir(), "imustream-natstest-nats-server-"+Version)
		if out, err := exec.Command(binPath, "--version").Output(); err == nil && strings.Contains(string(out), Version) {
			return
		}
		// Built beside it and renamed: test binaries of several packages
		// may build at once, and none may run a half-written file.
		tmp := fmt.Sprintf("%s.%d", binPath, os.Getpid())
		out, err := exec.Command("go", "build", "-o", tmp, "github.com/nats-io/nats-server/v2").CombinedOutput()
		if err == nil {
			err = os.Rename(tmp, binPath)
		}
		if err != nil {
			os.Remove(tmp)
			buildErr = fmt.Errorf("go build nats-server: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("natstest: %v", buildErr)
		}
		t.Skipf("%s did not run: no nats-server: %v", t.Name(), buildErr)
	}
	return binPath
}

// Node is one nats-server process.
type Node struct {
	Name        string
	ClientPort  int
	ClusterPort int
	conf        string
	t           testing.TB
	bin         string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// URL is the node's client URL.
func (n *Node) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.ClientPort) }

// Cluster is one or more nodes with JetStream, routed to each other.
type Cluster struct {
	Nodes []*Node
}

// URLs is every node's client URL, comma-separated (nats.Connect's form).
func (c *Cluster) URLs() string {
	u := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		u[i] = n.URL()
	}
	return strings.Join(u, ",")
}

func freeTCPPort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs n nodes (n > 1: a cluster named imustream-test) with
// JetStream in t's temporary directory, waits until each accepts clients
// and stops them when the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	c := &Cluster{}
	for i := range n {
		c.Nodes = append(c.Nodes, &Node{Name: fmt.Sprintf("n%d", i+1), ClientPort: freeTCPPort(t), ClusterPort: freeTCPPort(t), t: t, bin: bin})
	}
	for _, nd := range c.Nodes {
		var b strings.Builder
		fmt.Fprintf(&b, "server_name: %s\nlisten: 127.0.0.1:%d\n", nd.Name, nd.ClientPort)
		fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n  max_memory_store: 64MB\n  max_file_store: 2GB\n}\n", filepath.Join(dir, nd.Name))
		if n > 1 {
			fmt.Fprintf(&b, "cluster {\n  name: imustream-test\n  listen: 127.0.0.1:%d\n  routes: [\n", nd.ClusterPort)
			for _, o := range c.Nodes {
				if o != nd {
					fmt.Fprintf(&b, "    nats-route://127.0.0.1:%d\n", o.ClusterPort)
				}
			}
			b.WriteString("  ]\n}\n")
		}
		nd.conf = filepath.Join(dir, nd.Name+".conf")
		if err := os.WriteFile(nd.conf, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		log, err := os.Create(filepath.Join(dir, nd.Name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		nd.log = log
		nd.Restart()
	}
	t.Cleanup(func() {
		for _, nd := range c.Nodes {
			nd.stop(syscall.SIGTERM)
		}
	})
	return c
}

// Restart starts the node (again, after Kill) and waits until it accepts
// clients.
func (n *Node) Restart() {
	n.t.Helper()
	n.mu.Lock()
	cmd := exec.Command(n.bin, "-c", n.conf)
	cmd.Stdout, cmd.Stderr = n.log, n.log
	if err := cmd.Start(); err != nil {
		n.mu.Unlock()
		n.t.Fatalf("natstest: start %s: %v", n.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.ClientPort), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			n.t.Fatalf("natstest: %s exited at start; its log is %s", n.Name, n.log.Name())
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("natstest: %s does not accept clients after 30 s", n.Name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill sends the node SIGKILL and waits for it to die.
func (n *Node) Kill() { n.stop(syscall.SIGKILL) }

func (n *Node) stop(sig syscall.Signal) {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Pid is the node's process id, 0 when it is not running.
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

package main

import (
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// wiresharkTools finds tshark and dumpcap: missing, the test is skipped,
// or fails under CI, which installs them.
func wiresharkTools(t *testing.T) (tshark, dumpcap string) {
	t.Helper()
	var err error
	if tshark, err = exec.LookPath("tshark"); err == nil {
		dumpcap, err = exec.LookPath("dumpcap")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("TestWiresharkDissector: %v; CI installs tshark (Debian package tshark)", err)
		}
		t.Skipf("TestWiresharkDissector did not run: %v (apt-get install tshark)", err)
	}
	return tshark, dumpcap
}

// capturer is dumpcap on loopback writing to a file through a pipe,
// which dumpcap flushes as packets come, so that the test can see a probe
// arrive: the capture is known to be on, and known to hold everything
// sent before the probe.
type capturer struct {
	t      *testing.T
	cmd    *exec.Cmd
	probe  *net.UDPConn // sends to itself; its port is in the filter
	seen   chan string  // probes found in the stream
	done   chan error
	n      int
	stderr *strings.Builder // read once dumpcap has exited
}

func capture(t *testing.T, dumpcap, filter, out string, probe *net.UDPConn) *capturer {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	c := &capturer{t: t, probe: probe, seen: make(chan string, 64), done: make(chan error, 1)}
	// -B: a kernel buffer of 64 MiB rides out dumpcap waiting for a CPU.
	c.cmd = exec.Command(dumpcap, "-q", "-B", "64", "-i", "lo", "-f", filter, "-w", "-")
	c.stderr = &strings.Builder{}
	c.cmd.Stderr = c.stderr
	pipe, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer f.Close()
		buf := make([]byte, 64<<10)
		var tail []byte
		for {
			n, err := pipe.Read(buf)
			if n > 0 {
				if _, werr := f.Write(buf[:n]); werr != nil {
					c.done <- werr
					return
				}
				// Probes are short: look in the new bytes and a little before.
				tail = append(tail, buf[:n]...)
				for {
					i := strings.Index(string(tail), "imustream-probe-")
					if i < 0 || i+20 > len(tail) {
						break
					}
					c.seen <- string(tail[i : i+20])
					tail = tail[i+20:]
				}
				if len(tail) > 64 {
					tail = tail[len(tail)-64:]
				}
			}
			if err != nil {
				c.done <- c.cmd.Wait()
				return
			}
		}
	}()
	if !c.sync() {
		_ = c.cmd.Process.Kill()
		err := <-c.done
		msg := fmt.Sprintf("dumpcap captured nothing on lo (%v): %s", err, c.stderr.String())
		if os.Getenv("CI") != "" {
			t.Fatal("TestWiresharkDissector: " + msg)
		}
		t.Skip("TestWiresharkDissector did not run: " + msg)
	}
	return c
}

// sync sends probes until one shows in the capture.
func (c *capturer) sync() bool {
	c.n++
	want := fmt.Sprintf("imustream-probe-%04d", c.n)
	to := c.probe.LocalAddr().(*net.UDPAddr)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if _, err := c.probe.WriteToUDP([]byte(want), to); err != nil {
			c.t.Fatal(err)
		}
		tick := time.After(100 * time.Millisecond)
		for waiting := true; waiting; {
			select {
			case got := <-c.seen:
				if got == want {
					return true
				}
			case <-tick:
				waiting = false
			}
		}
	}
	return false
}

// stop waits until everything sent so far is captured, ends dumpcap and
// returns how many packets it says were dropped.
func (c *capturer) stop() (dropped uint64) {
	if !c.sync() {
		c.t.Error("the capture's last probe did not arrive")
	}
	_ = c.cmd.Process.Signal(os.Interrupt)
	if err := <-c.done; err != nil {
		c.t.Errorf("dumpcap: %v", err)
	}
	// "Packets received/dropped on interface 'Loopback: lo': 3037/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0)"
	m := regexp.MustCompile(`received/dropped on interface '[^']*': \d+/(\d+) \(pcap:(\d+)/dumpcap:(\d+)/flushed:(\d+)/ps_ifdrop:(\d+)`).FindStringSubmatch(c.stderr.String())
	if m == nil {
		c.t.Fatalf("dumpcap's statistics not found in %q", c.stderr.String())
	}
	for _, v := range m[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		dropped += n
	}
	return dropped
}

// tsharkFields runs the dissector over file and returns one []string of
// tab-separated fields per packet that passes filter.
func tsharkFields(t *testing.T, tshark, file string, prefs []string, filter string, fields ...string) [][]string {
	t.Helper()
	lua, err := filepath.Abs("../../deploy/wireshark/imustream.lua")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-r", file, "-X", "lua_script:" + lua}
	for _, p := range prefs {
		args = append(args, "-o", p)
	}
	args = append(args, "-Y", filter, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,")
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("tshark %q: %v\n%s", args, err, stderr)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l != "" {
			rows = append(rows, strings.Split(l, "\t"))
		}
	}
	return rows
}

func f32(s string) (float32, error) {
	v, err := strconv.ParseFloat(s, 32)
	return float32(v), err
}

type rigSample struct {
	seq uint32
	ax  float64
}

// liveRun is what a captured run left: the capture, the recorder's CSV,
// the ports, the rig samples the test received, and the packets the
// capture dropped.
type liveRun struct {
	pcap, csvPath, ctlPort, rigPort string
	rigTo                           int
	rigGot                          []rigSample
	dropped                         uint64
}

// A capture of a live run, decoded by the Lua dissector with tshark:
// every seq and accel value of the tagged, batched stream equals the
// recorder's CSV; the control lines, the rig's commands and samples and a
// record with pressure decode too.
func TestWiresharkDissector(t *testing.T) {
	tshark, dumpcap := wiresharkTools(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if _, stderr, code := runCmd(t, "keygen", "--out", key); code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	// A capture that dropped packets (dumpcap starved on a busy machine
	// while other imustream traffic fills its buffer) is taken again.
	var lr liveRun
	for attempt := 1; ; attempt++ {
		lr = func() liveRun {
			d, ctl, rigAddr, rigTo := startRigDaemon(t, "--key", key, "--batch", "3")
			_, ctlPort, _ := net.SplitHostPort(ctl)
			_, rigPort, _ := net.SplitHostPort(rigAddr)
			// A receiver for a crafted pressure datagram.
			extra, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer extra.Close()
			// Other imustream traffic on this machine's loopback may be captured
			// too: the checks below select this run's by session and port.
			pcap := filepath.Join(dir, fmt.Sprintf("run%d.pcapng", attempt))
			capt := capture(t, dumpcap, fmt.Sprintf("udp and (port %s or port %s or port %d or port %d or udp[8:4] = 0x494d5553)",
				ctlPort, rigPort, rigTo, extra.LocalAddr().(*net.UDPAddr).Port), pcap, extra)

			csvPath := filepath.Join(dir, fmt.Sprintf("rec%d.csv", attempt))
			if stdout, stderr, code := runCmd(t, "record", "--device", ctl, "--key", key, "--duration", "1s", "--out", csvPath); code != 0 {
				t.Fatalf("record: exit %d\n%s\n%s", code, stdout, stderr)
			}

			// The rig: start, 20 samples, stop.
			rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: rigTo})
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			rigDst, _ := net.ResolveUDPAddr("udp", rigAddr)
			cmd := make([]byte, 19)
			cmd[4] = 1
			if _, err := rx.WriteToUDP(cmd, rigDst); err != nil {
				t.Fatal(err)
			}
			var rigGot []rigSample
			buf := make([]byte, 256)
			for len(rigGot) < 20 {
				_ = rx.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, _, err := rx.ReadFromUDP(buf)
				if err != nil {
					t.Fatalf("rig samples: %v", err)
				}
				if n == 70 {
					rigGot = append(rigGot, rigSample{binary.LittleEndian.Uint32(buf), math.Float64frombits(binary.LittleEndian.Uint64(buf[12:]))})
				}
			}
			stray := append([]byte{0xff}, cmd[1:]...) // without the match byte
			cmd[4] = 0
			for _, p := range [][]byte{stray, cmd} {
				if _, err := rx.WriteToUDP(p, rigDst); err != nil {
					t.Fatal(err)
				}
			}

			// A record with pressure, as a daemon with a barometer sends it.
			ps := []sensor.Sample{{MonoNs: 1, WallNs: 2, Accel: [3]float32{1, 2, 3}, PressurePa: 101325.5, Status: sensor.StatusPressure}}
			pd := telemetry.AppendDatagramPressure(nil, telemetry.Header{Type: telemetry.TypeSamples, Session: 0x0badcafe, Seq: 7, RateHz: 200}, ps)
			if _, err := extra.WriteToUDP(pd, extra.LocalAddr().(*net.UDPAddr)); err != nil {
				t.Fatal(err)
			}
			dropped := capt.stop()
			d.terminate(t)
			return liveRun{pcap, csvPath, ctlPort, rigPort, rigTo, rigGot, dropped}
		}()
		if lr.dropped == 0 {
			break
		}
		if attempt == 3 {
			t.Fatalf("TestWiresharkDissector: every capture dropped packets (the last %d): the machine is too busy for dumpcap", lr.dropped)
		}
		t.Logf("the capture dropped %d packets: again", lr.dropped)
	}
	pcap, csvPath, ctlPort, rigPort, rigTo, rigGot := lr.pcap, lr.csvPath, lr.ctlPort, lr.rigPort, lr.rigTo, lr.rigGot

	prefs := []string{"imustream_ctl.port:" + ctlPort, "imustream_rig.port:" + strconv.Itoa(rigTo), "imustream_rig.cmd_port:" + rigPort,
		"imustream_rig.layout:simulink", "imustream_rig.command:" + rigCommand}

	// The recorder's CSV against the dissected telemetry of its session.
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) < 50 {
		t.Fatalf("CSV: %d rows, %v", len(rows), err)
	}
	session := rows[1][0]
	packets := tsharkFields(t, tshark, pcap, prefs, "imustream.type == 1 && imustream.session == 0x"+session,
		"imustream.count", "imustream.flags.tagged", "imustream.tag", "imustream.rec.seq",
		"imustream.rec.accel_x_exact", "imustream.rec.accel_y_exact", "imustream.rec.accel_z_exact")
	type acc struct{ x, y, z float32 }
	dissected := map[uint64]acc{}
	batches := 0
	for _, p := range packets {
		if len(p) != 7 {
			t.Fatalf("tshark row %q", p)
		}
		if p[1] != "1" || len(strings.ReplaceAll(p[2], ":", "")) != 32 {
			t.Errorf("datagram without its 16-byte tag: %q", p)
		}
		seqs, xs, ys, zs := strings.Split(p[3], ","), strings.Split(p[4], ","), strings.Split(p[5], ","), strings.Split(p[6], ",")
		if c, _ := strconv.Atoi(p[0]); c != len(seqs) || len(xs) != c || len(ys) != c || len(zs) != c {
			t.Fatalf("count %s, %d records dissected: %q", p[0], len(seqs), p)
		}
		if len(seqs) == 3 {
			batches++
		}
		for i, s := range seqs {
			seq, _ := strconv.ParseUint(s, 10, 32)
			x, err1 := f32(xs[i])
			y, err2 := f32(ys[i])
			z, err3 := f32(zs[i])
			if err1 != nil || err2 != nil || err3 != nil {
				t.Fatalf("accel %q %q %q", xs[i], ys[i], zs[i])
			}
			dissected[seq] = acc{x, y, z}
		}
	}
	if batches == 0 {
		t.Error("no batch of 3 records dissected")
	}
	for _, r := range rows[1:] {
		seq, _ := strconv.ParseUint(r[1], 10, 32)
		got, ok := dissected[seq]
		if !ok {
			t.Errorf("seq %d of the CSV not in the capture", seq)
			continue
		}
		x, _ := f32(r[4])
		y, _ := f32(r[5])
		z, _ := f32(r[6])
		if got != (acc{x, y, z}) {
			t.Errorf("seq %d: dissected accel %v, CSV %v", seq, got, acc{x, y, z})
		}
	}
	t.Logf("%d CSV rows checked against %d dissected records in %d datagrams", len(rows)-1, len(dissected), len(packets))

	// The text commands and replies.
	lines := tsharkFields(t, tshark, pcap, prefs, "imustream_ctl", "imustream_ctl.kind", "imustream_ctl.verb")
	seen := map[string]bool{}
	for _, l := range lines {
		seen[strings.Join(l, " ")] = true
	}
	for _, want := range []string{"command start", "reply ok", "command hello"} {
		if !seen[want] {
			t.Errorf("no %q among the control lines %v", want, seen)
		}
	}

	// The rig's commands and samples.
	acts := tsharkFields(t, tshark, pcap, prefs, "imustream_rig.action", "imustream_rig.action")
	if len(acts) != 3 || acts[0][0] != "start" || acts[1][0] != "not matching" || acts[2][0] != "stop" {
		t.Errorf("rig commands dissected as %q, want start, not matching, stop", acts)
	}
	rs := tsharkFields(t, tshark, pcap, prefs, "imustream_rig.seq && udp.dstport == "+strconv.Itoa(rigTo), "imustream_rig.exact")
	if len(rs) < len(rigGot) {
		t.Fatalf("%d rig samples dissected, %d received", len(rs), len(rigGot))
	}
	for i, g := range rigGot {
		v := strings.Split(rs[i][0], ",") // seq, t, ax, …
		if len(v) != 10 || v[0] != strconv.FormatUint(uint64(g.seq), 10) || v[2] != strconv.FormatFloat(g.ax, 'g', 17, 64) {
			if ax, err := strconv.ParseFloat(v[2], 64); err != nil || ax != g.ax || v[0] != strconv.FormatUint(uint64(g.seq), 10) {
				t.Errorf("rig sample %d dissected as %q, received seq %d ax %v", i, v, g.seq, g.ax)
			}
		}
	}

	// Pressure.
	pr := tsharkFields(t, tshark, pcap, prefs, "imustream.session == 0x0badcafe", "imustream.sample_len", "imustream.rec.pressure_pa_exact", "imustream.rec.flags.pressure")
	if len(pr) != 1 || pr[0][0] != "56" || pr[0][1] != "101325.5" || pr[0][2] != "1" {
		t.Errorf("pressure datagram dissected as %q", pr)
	}
}

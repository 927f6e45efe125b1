package daemon_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/control"
	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/daemon/daemontest"
	"github.com/imustream/imustream/rig"
	"github.com/imustream/imustream/sensor/sim"
)

func TestRigConfig(t *testing.T) {
	to, _ := rig.ParseTarget(":9")
	for _, c := range []daemon.RigConfig{
		{Listen: "127.0.0.1:0"},                                 // no target
		{Listen: "127.0.0.1:0", To: &to, Timeout: -time.Second}, // negative timeout
		{Listen: "nohost:x", To: &to},                           // bad address
	} {
		_, err := daemon.New(daemon.Config{Sensor: sim.New(sim.Opts{}), Listen: "127.0.0.1:0", Rig: c})
		if !errors.Is(err, daemon.ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
	}
}

// The rig's target gets the rig layout; a native start for it is refused,
// and the text protocol's status has the rig's counters.
func TestRigInDaemon(t *testing.T) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	to := rig.Target{Addr: rx.LocalAddr().(*net.UDPAddr).AddrPort()}
	layout, err := rig.ParseLayout("seq:u16,az:f32")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	d, _ := daemontest.Start(t, daemon.Config{Rig: daemon.RigConfig{Conn: rc, To: &to, Layout: layout, Timeout: 5 * time.Second}}, nil)
	if d.RigAddr() == "" {
		t.Fatal("no rig address")
	}
	c, err := net.DialUDP("udp4", nil, rc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pkt := make([]byte, 19)
	pkt[4] = 1
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = rx.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := rx.ReadFromUDP(buf)
	if err != nil || n != layout.Size {
		t.Fatalf("rig sample: %d bytes, %v", n, err)
	}
	cl, err := control.Dial(d.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if r, err := cl.Start(ctx, to.String(), 0); err == nil || !strings.Contains(err.Error(), "rig's stream") {
		t.Errorf("a native start of the rig's target: %+v, %v; want refused", r, err)
	}
	st, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range st.Fields {
		got[f.Key] = f.Value
	}
	if got["rig"] != "streaming" || got["rig_sessions"] != "1" || got["rig_to"] != to.String() {
		t.Errorf("status %v", got)
	}
	if c, ok := d.RigCounters(); !ok || c.Start != 1 {
		t.Errorf("counters %+v", c)
	}
}

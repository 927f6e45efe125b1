package daemon_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imustream/imustream/internal/daemon"
	"github.com/imustream/imustream/internal/syncbuf"
	"github.com/imustream/imustream/sensor/detect"
	"github.com/imustream/imustream/sensor/sim"
	"github.com/imustream/imustream/telemetry"
)

// TestRunReloading: each signal applies what load returns; a load that
// fails is logged and the running allow list stays.
func TestRunReloading(t *testing.T) {
	both := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("127.0.0.3/32")}
	var logBuf syncbuf.Buffer
	d, err := daemon.New(daemon.Config{Reloadable: daemon.Reloadable{Allow: both}, Sensor: sim.New(sim.Opts{Seed: 1}),
		Listen: "127.0.0.1:0", RateHz: 200, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	td := &testDaemon{Daemon: d, addr: d.Addr()}
	a, b := newPeer(t, td, "127.0.0.1"), newPeer(t, td, "127.0.0.3")
	hup := make(chan os.Signal, 1)
	loads := make(chan daemon.Reloadable, 1)
	load := func() (daemon.Reloadable, error) {
		select {
		case r := <-loads:
			return r, nil
		default:
			return daemon.Reloadable{}, errors.New("test: the file does not load")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := d.RunReloading(ctx, hup, load); err != nil {
			t.Errorf("RunReloading: %v", err)
		}
	})
	defer func() { cancel(); wg.Wait() }()
	b.do("id=1 ping\n", "1")

	hup <- syscall.SIGHUP // load fails: both stay allowed
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logBuf.String(), "reload failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload failure logged: %s", logBuf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.do("id=2 ping\n", "2")

	loads <- daemon.Reloadable{Allow: both[:1]}
	hup <- syscall.SIGHUP
	for d.Counters().NotAllowed == 0 {
		if time.Now().After(deadline) {
			t.Fatal("127.0.0.3 still allowed after the reload")
		}
		b.send("id=3 ping\n")
		time.Sleep(50 * time.Millisecond)
	}
	a.do("id=4 ping\n", "4")
	if strings.Count(logBuf.String(), "reload failed") != 1 {
		t.Errorf("log: %s", logBuf.String())
	}
}

// TestFitBatch: a batch too large for 56- or 84-byte records turns the
// pressure or the field off, and says so; one that fits keeps them.
func TestFitBatch(t *testing.T) {
	for _, tc := range []struct {
		batch         int
		magQuat       bool
		pressure, mag bool
		wantLog       string
	}{
		{1, false, true, true, ""},
		{telemetry.MaxBatchMagQuat, false, true, true, ""},
		{telemetry.MaxBatchMagQuat + 1, false, true, false, "magnetometer not read"},
		{telemetry.MaxBatchMagQuat + 1, true, true, true, ""},
		{telemetry.MaxBatchPressure + 1, true, false, true, "pressure not streamed"},
		{telemetry.MaxBatchPressure + 1, false, false, false, "magnetometer not read"},
	} {
		var logBuf syncbuf.Buffer
		c := detect.Config{Pressure: true, Mag: true}
		daemon.FitBatch(&c, tc.batch, tc.magQuat, slog.New(slog.NewTextHandler(&logBuf, nil)))
		if c.Pressure != tc.pressure || c.Mag != tc.mag || !strings.Contains(logBuf.String(), tc.wantLog) || (tc.wantLog == "") != (logBuf.String() == "") {
			t.Errorf("batch %d magQuat %v: pressure %v mag %v, log %q; want %v %v, %q", tc.batch, tc.magQuat, c.Pressure, c.Mag, logBuf.String(), tc.pressure, tc.mag, tc.wantLog)
		}
	}
}

// TestNewSensorConfig: the simulator takes --fifo on as its FIFO rate; a
// chip's settings are checked against the chips without a bus.
func TestNewSensorConfig(t *testing.T) {
	c, err := daemon.NewSensorConfig("sim", detect.Config{FIFO: detect.FIFOOn}, 400, 9, true)
	if err != nil || !c.Sim || c.SimFIFOHz != 400 || c.Seed != 9 || !c.Still {
		t.Errorf("sim with FIFO: %+v, %v", c, err)
	}
	if c, _ := daemon.NewSensorConfig("sim", detect.Config{FIFO: detect.FIFOAuto}, 400, 1, false); c.SimFIFOHz != 0 {
		t.Errorf("sim with FIFO auto: %+v; want no FIFO", c)
	}
	c, err = daemon.NewSensorConfig("mpu6050", detect.Config{Bus: "1", GyroRangeDPS: 1000}, 500, 1, false)
	if err != nil || c.Sim || c.Detect.Kind != detect.MPU6050 || c.Detect.RateHz != 500 || c.Detect.GyroRangeDPS != 1000 {
		t.Errorf("mpu6050: %+v, %v", c, err)
	}
	if _, err := daemon.NewSensorConfig("lsm9ds1", detect.Config{GyroRangeDPS: 1000}, 200, 1, false); !detect.InvalidOpts(err) {
		t.Errorf("lsm9ds1 at ±1000 °/s: %v; want the driver's refusal", err)
	}
}

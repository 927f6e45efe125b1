package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/calib"
	"github.com/imustream/imustream/sensor/sim"
)

// noPanic fails the test if a process's stderr shows a Go panic or crash.
func noPanic(t *testing.T, args []string, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("imustream %q crashed:\n%s", args, stderr)
	}
}

// On a machine without I²C every command that needs the bus fails at once,
// exits 1 and says how to enable it.
func TestNoI2CBus(t *testing.T) {
	if nodes, _ := filepath.Glob("/dev/i2c-*"); len(nodes) > 0 {
		t.Skipf("this machine has I²C buses: %v", nodes)
	}
	for _, args := range [][]string{
		{"run"}, // the default is --sensor auto
		{"run", "--sensor", "auto", "--listen", freePort(t)},
		{"run", "--sensor", "mpu6050", "--addr", "0x69", "--listen", freePort(t)},
		{"run", "--sensor", "lsm9ds1", "--bus", "3", "--listen", freePort(t)},
		{"probe"},
		{"probe", "--bus", "1"},
		{"probe", "--record", filepath.Join(t.TempDir(), "trace.json")},
		{"calibrate", "--seconds", "1", "--out", filepath.Join(t.TempDir(), "c.json")},
	} {
		begin := time.Now()
		stdout, stderr, code := runCmd(t, args...)
		took := time.Since(begin)
		if code != 1 {
			t.Errorf("imustream %q: exit %d, want 1\n%s", args, code, stderr)
		}
		for _, want := range []string{"no I²C bus: no /dev/i2c-* found", "dtparam=i2c_arm=on", "raspi-config"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("imustream %q: stderr lacks %q:\n%s", args, want, stderr)
			}
		}
		if args[0] == "run" && !strings.Contains(stderr, "to run without hardware, pass --sim") {
			t.Errorf("imustream %q: stderr does not point at --sim:\n%s", args, stderr)
		}
		if stdout != "" {
			t.Errorf("imustream %q: stdout %q, want nothing", args, stdout)
		}
		if took > 5*time.Second {
			t.Errorf("imustream %q took %s to fail", args, took)
		}
		noPanic(t, args, stderr)
	}
}

// Settings no chip accepts are refused before the bus is touched, with
// exit 2 and the valid values, on any machine.
func TestSensorUsageErrors(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "lsm.conf")
	if err := os.WriteFile(conf, []byte("sensor = lsm9ds1\ngyro-range = 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mirror := filepath.Join(dir, "mirror.json")
	if err := os.WriteFile(mirror, []byte(`{"format": "imustream-calibration/1", "gyro_bias_rad_s": [0, 0, 0], "accel_offset_m_s2": [0, 0, 0], "mounting": "x=y,y=x,z=z"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--sensor", "mpu9250"}, "want auto, mpu6050 (MPU-6050/6500/9250/9255), icm20948, lsm9ds1 (Sense HAT), lsm6dsox (LSM6DSOX/LSM6DSO/LSM6DS3TR-C/ISM330DHCX, with an LIS3MDL), bno055 or sim"},
		{[]string{"run", "--sim", "--sensor", "mpu6050"}, "--sim and --sensor mpu6050 disagree"},
		{[]string{"run", "--sensor", "mpu6050", "--rate", "300"}, "rate 300 Hz; the chip makes 1000/n Hz and needs at least 10 Hz for its 5 Hz filter; valid: 1000, 500, 250, 200, 125, 100, 50, 40, 25, 20, 10 Hz"},
		{[]string{"run", "--sensor", "lsm9ds1", "--rate", "1000"}, "valid rates are 1 to 952 Hz"},
		{[]string{"run", "--sensor", "lsm9ds1", "--gyro-range", "1000"}, "gyroscope range 1000 °/s; valid: 245, 500, 2000 °/s"},
		{[]string{"run", "--sensor", "mpu6050", "--gyro-range", "245"}, "valid: 250, 500, 1000, 2000 °/s"},
		{[]string{"run", "--accel-range", "3"}, "accelerometer range 3 g; valid: 2, 4, 8, 16 g"},
		{[]string{"run", "--sensor", "mpu6050", "--dlpf", "184"}, "low-pass filter 184 Hz is above half the 200 Hz rate (aliasing); valid at 200 Hz: 92, 41, 20, 10, 5 Hz"},
		{[]string{"run", "--sensor", "mpu6050", "--dlpf", "50"}, "valid: 184, 92, 41, 20, 10, 5 Hz"},
		{[]string{"run", "--sensor", "lsm9ds1", "--dlpf", "41"}, "the LSM9DS1's filters follow its output data rate"},
		{[]string{"run", "--addr", "0x50"}, "address 0x50 is not a supported IMU address; valid: 0x68, 0x69, 0x6a, 0x6b"},
		{[]string{"run", "--sensor", "lsm9ds1", "--addr", "0x68"}, "valid: 0x6a, 0x6b"},
		{[]string{"run", "--addr", "sixty-eight"}, "7-bit I²C address"},
		{[]string{"run", "--config", conf}, "valid: 245, 500, 2000 °/s"},
		{[]string{"run", "--sim", "--calibration", filepath.Join(dir, "none.json")}, "--calibration: calib:"},
		{[]string{"run", "--sim", "--calibration", mirror}, "a reflection"},
		{[]string{"run", "--sim", "--mount", "x=y,y=x,z=z"}, "a reflection"},
		{[]string{"run", "--sim", "--mount", "x=x"}, "want three assignments"},
		{[]string{"probe", "--sensor", "sim"}, "the simulated sensor is not on one"},
		{[]string{"probe", "--sensor", "mpu6050", "--rate", "300", "--record", filepath.Join(dir, "t.json")}, "valid: 1000, 500"},
		{[]string{"calibrate", "--sim", "--seconds", "0"}, "--seconds 0 out of range"},
		{[]string{"calibrate", "--sim", "--seconds", "0.2"}, "gives 40 samples; the estimate needs at least 100"},
		{[]string{"calibrate", "--sim", "--out", ""}, "--out must name a file"},
		{[]string{"calibrate", "--sensor", "lsm9ds1", "--gyro-range", "250"}, "valid: 245, 500, 2000 °/s"},
	} {
		_, stderr, code := runCmd(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("imustream %q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
		noPanic(t, tc.args, stderr)
	}
}

// calibrate with the simulator at rest finds the biases the simulator was
// built with, within what its noise allows.
func TestCalibrateSim(t *testing.T) {
	const seed = 7
	wantAcc, wantGyro := sim.New(sim.Opts{Seed: seed, Still: true}).Bias()
	// 200 samples: σ of a mean is 0.039/√200 ≈ 0.003 m/s² for the
	// accelerometer and 0.00087/√200 ≈ 6e-5 rad/s for the gyroscope.
	const accTol, gyroTol = 0.015, 3e-4
	g := sensor.StandardGravity

	t.Run("level", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "cal.json")
		stdout, stderr, code := runCmd(t, "calibrate", "--sim", "--seed", "7", "--seconds", "1", "--level", "--out", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		for _, want := range []string{"samples       200 used", "wrote " + out} {
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, stdout)
			}
		}
		c, err := calib.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if c.Sensor != "sim" || c.Samples != 200 || !c.Mounting.IsZero() {
			t.Errorf("file: sensor %q, %d samples, mounting %v", c.Sensor, c.Samples, c.Mounting)
		}
		for i := range 3 {
			// Level: the whole offset is the accelerometer bias.
			if d := c.AccelOffset[i] - wantAcc[i]; math.Abs(d) > accTol {
				t.Errorf("accel offset %c = %.5f, simulator bias %.5f", "xyz"[i], c.AccelOffset[i], wantAcc[i])
			}
			if d := c.GyroBias[i] - wantGyro[i]; math.Abs(d) > gyroTol {
				t.Errorf("gyro bias %c = %.6f, simulator bias %.6f", "xyz"[i], c.GyroBias[i], wantGyro[i])
			}
		}
	})

	t.Run("along gravity, with mounting", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "cal.json")
		stdout, stderr, code := runCmd(t, "calibrate", "--sim", "--seed", "7", "--seconds", "1", "--mount", "x=-y,y=x,z=z", "--out", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		c, err := calib.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if c.Mounting.String() != "x=-y,y=x,z=z" {
			t.Errorf("mounting %v", c.Mounting)
		}
		// The simulator at rest reads g·ẑ + bias; the offset must lie along
		// that and take away what is beyond g.
		var raw [3]float64
		var dot, norm, onorm float64
		for i := range 3 {
			raw[i] = wantAcc[i]
			if i == 2 {
				raw[i] += g
			}
			norm += raw[i] * raw[i]
			onorm += c.AccelOffset[i] * c.AccelOffset[i]
			dot += raw[i] * c.AccelOffset[i]
			if d := c.GyroBias[i] - wantGyro[i]; math.Abs(d) > gyroTol {
				t.Errorf("gyro bias %c = %.6f, simulator bias %.6f", "xyz"[i], c.GyroBias[i], wantGyro[i])
			}
		}
		norm, onorm = math.Sqrt(norm), math.Sqrt(onorm)
		if math.Abs(onorm-math.Abs(norm-g)) > accTol || dot*(norm-g) < 0 {
			t.Errorf("accel offset %v (|%.5f|); want %.5f along %v", c.AccelOffset, onorm, norm-g, raw)
		}
	})
}

// run loads the calibration and the mounting, logs them, and names the
// sensor in its status reply.
func TestRunWithCalibration(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cal.json")
	if _, stderr, code := runCmd(t, "calibrate", "--sim", "--seconds", "0.5", "--out", out); code != 0 {
		t.Fatalf("calibrate: exit %d\n%s", code, stderr)
	}
	d, addr := startDaemon(t, "--calibration", out, "--mount", "x=-y,y=x,z=z")
	log := d.stderr.String()
	for _, want := range []string{"sensor: simulated", "calibration applied", `mounting="x=-y,y=x,z=z"`, "sensor=sim"} {
		if !strings.Contains(log, want) {
			t.Errorf("daemon log lacks %q:\n%s", want, log)
		}
	}
	stdout, _, code := runCmd(t, "status", "--device", addr)
	if code != 0 || !strings.Contains(stdout, "sensor            sim\n") {
		t.Errorf("status (exit %d):\n%s", code, stdout)
	}
	d.terminate(t)
}

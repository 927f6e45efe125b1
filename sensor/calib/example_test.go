package calib_test

import (
	"fmt"
	"log"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/calib"
)

// still is a sensor lying still, its z axis up, with a gyroscope bias and
// an accelerometer that reads 2 % high.
type still struct{}

func (still) Read(s *sensor.Sample) error {
	s.Accel = [3]float32{0, 0, 1.02 * sensor.StandardGravity}
	s.Gyro = [3]float32{0.02, -0.01, 0.005}
	return nil
}
func (still) String() string { return "still@0x00" }
func (still) Halt() error    { return nil }

func Example() {
	// calibrate: read the device at rest and estimate.
	var raw sensor.Sensor = still{}
	var acc calib.Accumulator
	var s sensor.Sample
	for range 1000 {
		if err := raw.Read(&s); err == nil {
			acc.Add(&s)
		}
	}
	c, report, err := acc.Estimate(nil)
	if err != nil {
		log.Fatal(err)
	}
	c.Sensor = raw.String()
	c.Mounting, err = calib.ParseMounting("x=-y,y=x,z=z")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d samples, |a| = %.3f m/s²\n", report.N, report.AccelNorm)
	fmt.Printf("gyro bias %.3f rad/s, accel offset %.3f m/s²\n", c.GyroBias, c.AccelOffset)

	// run: wrap the sensor; every read comes out corrected, in the body frame.
	body, err := calib.Apply(raw, c)
	if err != nil {
		log.Fatal(err)
	}
	if err := body.Read(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("accel %.3f gyro %.3f\n", s.Accel, s.Gyro)
	// Output:
	// 1000 samples, |a| = 10.003 m/s²
	// gyro bias [0.020 -0.010 0.005] rad/s, accel offset [0.000 0.000 0.196] m/s²
	// accel [0.000 0.000 9.807] gyro [0.000 0.000 0.000]
}

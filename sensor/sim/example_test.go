package sim_test

import (
	"fmt"
	"math"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/sim"
)

func Example() {
	// An ideal sensor whose every third read fails.
	imu := sim.New(sim.Opts{Seed: 1, NoiseFree: true, NoBias: true, FailEvery: 3})
	defer imu.Halt()

	var s sensor.Sample
	for i := range 4 {
		s.MonoNs = int64(i) * 5e6 // 200 Hz
		err := imu.Read(&s)
		a := math.Sqrt(float64(s.Accel[0]*s.Accel[0] + s.Accel[1]*s.Accel[1] + s.Accel[2]*s.Accel[2]))
		fmt.Printf("%s read %d: |a| = %.3f m/s², status %04b, err %v\n", imu, i+1, a, s.Status, err)
	}
	// Output:
	// sim read 1: |a| = 9.807 m/s², status 0000, err <nil>
	// sim read 2: |a| = 9.807 m/s², status 0000, err <nil>
	// sim read 3: |a| = 9.807 m/s², status 0001, err sim: injected fault (1 read in 3)
	// sim read 4: |a| = 9.807 m/s², status 0000, err <nil>
}

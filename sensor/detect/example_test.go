package detect_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/detect"
	"github.com/imustream/imustream/sensor/detect/detecttest"
)

// How a command opens the sensor on a Pi. Without I²C it fails at once with
// an error that says how to enable it.
func ExampleOpen() {
	s, err := detect.Open(detect.Config{Kind: detect.Auto, Bus: "1", RateHz: 200})
	if errors.Is(err, detect.ErrNoBus) || errors.Is(err, detect.ErrPermission) || errors.Is(err, sensor.ErrNotFound) {
		log.Fatal(err) // the message says what to do
	}
	if err != nil {
		log.Fatal(err)
	}
	defer s.Halt()
	log.Print(s.(*detect.Device).Describe())
	var x sensor.Sample
	if err := s.Read(&x); err != nil {
		log.Print(err) // flagged in x.Status and counted; the next tick goes on
	}
}

// A recorded session stands in for the bus.
func ExampleOpenBus() {
	tr, err := detecttest.ReadTrace("testdata/gy91-synthetic.json")
	if err != nil {
		log.Fatal(err)
	}
	d, err := detect.OpenBus(detecttest.NewReplay(tr), tr.Config)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range d.Probed {
		fmt.Println(f)
	}
	fmt.Println(d.Describe())
	var x sensor.Sample
	if err := d.Read(&x); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("accel z %.2f m/s²\n", x.Accel[2])
	// Output:
	// 0x68 MPU-9250 (WHO_AM_I 0x71)
	// 0x76 BMP280 (chip id 0x58)
	// mpu9250@0x68: MPU-9250 (WHO_AM_I 0x71) on I²C bus 1; also there: 0x76 BMP280 (chip id 0x58)
	// accel z 9.88 m/s²
}

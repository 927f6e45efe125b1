package calib

import (
	"encoding/json"
	"testing"

	"github.com/imustream/imustream/sensor"
)

// FuzzParse feeds Parse arbitrary files: what it accepts applies without
// error, reads samples without NaN from finite input, and survives a
// marshal/parse round trip.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"format":"imustream-calibration/1","gyro_bias_rad_s":[0.01,0,0],"accel_offset_m_s2":[0,0,0.1],"mounting":"x=-y,y=x,z=z"}`))
	f.Add([]byte(`{"format":"imustream-calibration/1","mag":{"offset_ut":[20,-35,12],"matrix":[[0.9,-0.06,0.03],[-0.06,1.15,-0.05],[0.03,-0.05,0.98]],"field_ut":51.3}}`))
	f.Add([]byte(`{"format":"imustream-calibration/1","mag":{"offset_ut":[0,0,0],"matrix":[[1,0,0],[0,1,0],[0,0,0]]}}`))
	f.Add([]byte(`{"format":"imustream-calibration/1","accel_scale":[1,1,1],"mounting":[[1,0,0],[0,1,0],[0,0,1]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		s, err := Apply(&fakeSensor{accel: [3]float32{0, 0, 9.8}, gyro: [3]float32{0.1, 0, 0}}, c)
		if err != nil {
			t.Fatalf("accepted but not applied: %v", err)
		}
		x := sensor.Sample{Mag: [3]float32{10, 20, -40}, Status: sensor.StatusMag}
		if err := s.Read(&x); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("re-marshalled %s does not parse: %v", out, err)
		}
		if back.Mag != c.Mag || back.GyroBias != c.GyroBias {
			t.Fatalf("round trip %+v != %+v", back, c)
		}
	})
}

package foxglove

import (
	"strconv"
	"sync"

	"github.com/imustream/imustream/foxglove/wsproto"
	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/telemetry"
)

// The channels IMU publishes. /imu/mag and /imu/pressure are advertised
// when the first sample that carries them arrives.
const (
	ChannelImu         uint32 = 1 // /imu, sensor_msgs/msg/Imu
	ChannelTemperature uint32 = 2 // /imu/temperature, sensor_msgs/msg/Temperature
	ChannelMag         uint32 = 3 // /imu/mag, sensor_msgs/msg/MagneticField
	ChannelPressure    uint32 = 4 // /imu/pressure, sensor_msgs/msg/FluidPressure
)

// IMU publishes samples on a Server as ROS 2-shaped messages in JSON
// (encoding "json", schemas as JSON Schema): the field names and units of
// sensor_msgs, so Foxglove's Plot takes /imu.linear_acceleration.x as it
// does from its ROS bridge. Header stamps and the message times are the
// device's wall clock (t_wall_ns). Without an orientation the
// orientation_covariance[0] is -1, the ROS convention for "no estimate";
// unknown covariances are 0.
type IMU struct {
	srv     *Server
	frameID string // JSON-quoted

	mu        sync.Mutex
	buf       []byte
	mag, pres bool // advertised
}

// NewIMU advertises the IMU's channels on srv; frameID is the messages'
// header.frame_id.
func NewIMU(srv *Server, frameID string) (*IMU, error) {
	m := &IMU{srv: srv, frameID: jsonString(frameID), buf: make([]byte, 0, 1024)}
	err := srv.Advertise(
		wsproto.Channel{ID: ChannelImu, Topic: "/imu", Encoding: "json", SchemaName: "sensor_msgs/msg/Imu", SchemaEncoding: "jsonschema", Schema: imuSchema},
		wsproto.Channel{ID: ChannelTemperature, Topic: "/imu/temperature", Encoding: "json", SchemaName: "sensor_msgs/msg/Temperature", SchemaEncoding: "jsonschema", Schema: temperatureSchema},
	)
	return m, err
}

// Sample publishes one sample: the receiver's OnSample. It returns at once.
func (m *IMU) Sample(_ *telemetry.Header, _ uint32, s *sensor.Sample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.Status&sensor.StatusMag != 0 && s.Status&sensor.StatusMagOverflow == 0 && !m.mag {
		m.mag = true
		m.srv.Advertise(wsproto.Channel{ID: ChannelMag, Topic: "/imu/mag", Encoding: "json", SchemaName: "sensor_msgs/msg/MagneticField", SchemaEncoding: "jsonschema", Schema: magSchema})
	}
	if s.Status&sensor.StatusPressure != 0 && !m.pres {
		m.pres = true
		m.srv.Advertise(wsproto.Channel{ID: ChannelPressure, Topic: "/imu/pressure", Encoding: "json", SchemaName: "sensor_msgs/msg/FluidPressure", SchemaEncoding: "jsonschema", Schema: pressureSchema})
	}
	t := uint64(max(s.WallNs, 0))
	if m.srv.Subscribed(ChannelImu) {
		m.buf = AppendImu(m.buf[:0], m.frameID, s)
		m.srv.Publish(ChannelImu, t, m.buf)
	}
	if m.srv.Subscribed(ChannelTemperature) {
		m.buf = m.header(m.buf[:0], s)
		m.buf = append(m.buf, `,"temperature":`...)
		m.buf = appendFloat(m.buf, s.TempC)
		m.buf = append(m.buf, `,"variance":0}`...)
		m.srv.Publish(ChannelTemperature, t, m.buf)
	}
	if m.mag && s.Status&sensor.StatusMag != 0 && s.Status&sensor.StatusMagOverflow == 0 && m.srv.Subscribed(ChannelMag) {
		m.buf = m.header(m.buf[:0], s)
		m.buf = append(m.buf, `,"magnetic_field":`...)
		// µT to T, the unit of sensor_msgs.
		m.buf = appendVector(m.buf, [3]float32{s.Mag[0] * 1e-6, s.Mag[1] * 1e-6, s.Mag[2] * 1e-6})
		m.buf = append(m.buf, `,"magnetic_field_covariance":[0,0,0,0,0,0,0,0,0]}`...)
		m.srv.Publish(ChannelMag, t, m.buf)
	}
	if m.pres && s.Status&sensor.StatusPressure != 0 && m.srv.Subscribed(ChannelPressure) {
		m.buf = m.header(m.buf[:0], s)
		m.buf = append(m.buf, `,"fluid_pressure":`...)
		m.buf = appendFloat(m.buf, s.PressurePa)
		m.buf = append(m.buf, `,"variance":0}`...)
		m.srv.Publish(ChannelPressure, t, m.buf)
	}
}

func (m *IMU) header(b []byte, s *sensor.Sample) []byte { return appendHeader(b, m.frameID, s) }

// appendHeader opens a message with its std_msgs/Header.
func appendHeader(b []byte, frameID string, s *sensor.Sample) []byte {
	sec, nsec := s.WallNs/1e9, s.WallNs%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	b = append(b, `{"header":{"stamp":{"sec":`...)
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, `,"nanosec":`...)
	b = strconv.AppendInt(b, nsec, 10)
	b = append(b, `},"frame_id":`...)
	b = append(b, frameID...)
	return append(b, '}')
}

// AppendImu appends s as a sensor_msgs/msg/Imu in JSON; frameID is
// already a JSON string.
func AppendImu(b []byte, frameID string, s *sensor.Sample) []byte {
	b = appendHeader(b, frameID, s)
	if s.Status&sensor.StatusOrientation != 0 {
		q := s.Quat // w, x, y, z
		b = append(b, `,"orientation":{"x":`...)
		b = appendFloat(b, q[1])
		b = append(b, `,"y":`...)
		b = appendFloat(b, q[2])
		b = append(b, `,"z":`...)
		b = appendFloat(b, q[3])
		b = append(b, `,"w":`...)
		b = appendFloat(b, q[0])
		b = append(b, `},"orientation_covariance":[0,0,0,0,0,0,0,0,0]`...)
	} else {
		b = append(b, `,"orientation":{"x":0,"y":0,"z":0,"w":1},"orientation_covariance":[-1,0,0,0,0,0,0,0,0]`...)
	}
	b = append(b, `,"angular_velocity":`...)
	b = appendVector(b, s.Gyro)
	b = append(b, `,"angular_velocity_covariance":[0,0,0,0,0,0,0,0,0],"linear_acceleration":`...)
	b = appendVector(b, s.Accel)
	return append(b, `,"linear_acceleration_covariance":[0,0,0,0,0,0,0,0,0]}`...)
}

func appendVector(b []byte, v [3]float32) []byte {
	b = append(b, `{"x":`...)
	b = appendFloat(b, v[0])
	b = append(b, `,"y":`...)
	b = appendFloat(b, v[1])
	b = append(b, `,"z":`...)
	b = appendFloat(b, v[2])
	return append(b, '}')
}

// appendFloat writes v as the CSV does (shortest float32 form); JSON has
// no NaN or infinity, so those become null.
func appendFloat(b []byte, v float32) []byte {
	if v != v || v > 3.4028235e38 || v < -3.4028235e38 {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
}

func jsonString(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[r>>4], "0123456789abcdef"[r&15])
		default:
			b = append(b, string(r)...)
		}
	}
	return string(append(b, '"'))
}

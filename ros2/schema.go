package ros2

import "strings"

// Type names, as MCAP schemas and ROS 2 tools name them.
const (
	ImuType           = "sensor_msgs/msg/Imu"
	MagneticFieldType = "sensor_msgs/msg/MagneticField"
	TemperatureType   = "sensor_msgs/msg/Temperature"
	FluidPressureType = "sensor_msgs/msg/FluidPressure"
)

// SchemaEncoding is the MCAP schema encoding of the Schema texts, and
// MessageEncoding that of the messages.
const (
	SchemaEncoding  = "ros2msg"
	MessageEncoding = "cdr"
)

// The .msg definitions, as ROS 2 Jazzy ships them, comments left out.
const (
	headerMsg = "builtin_interfaces/Time stamp\nstring frame_id\n"
	timeMsg   = "int32 sec\nuint32 nanosec\n"
	quatMsg   = "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n"
	vec3Msg   = "float64 x\nfloat64 y\nfloat64 z\n"
	imuMsg    = "std_msgs/Header header\n" +
		"geometry_msgs/Quaternion orientation\nfloat64[9] orientation_covariance\n" +
		"geometry_msgs/Vector3 angular_velocity\nfloat64[9] angular_velocity_covariance\n" +
		"geometry_msgs/Vector3 linear_acceleration\nfloat64[9] linear_acceleration_covariance\n"
	magMsg      = "std_msgs/Header header\ngeometry_msgs/Vector3 magnetic_field\nfloat64[9] magnetic_field_covariance\n"
	tempMsg     = "std_msgs/Header header\nfloat64 temperature\nfloat64 variance\n"
	pressureMsg = "std_msgs/Header header\nfloat64 fluid_pressure\nfloat64 variance\n"
)

// bundle is a ros2msg schema: the type's definition, then each type it
// uses, each after a line of 80 '=' and "MSG: pkg/Type", as rosbag2
// writes it.
func bundle(main string, deps ...string) string {
	var b strings.Builder
	b.WriteString(main)
	for i := 0; i+1 < len(deps); i += 2 {
		b.WriteString(strings.Repeat("=", 80) + "\nMSG: " + deps[i] + "\n" + deps[i+1])
	}
	return b.String()
}

// Schema returns the ros2msg schema text of a type this package encodes,
// "" for another.
func Schema(typ string) string {
	hdr := []string{"std_msgs/Header", headerMsg, "builtin_interfaces/Time", timeMsg}
	switch typ {
	case ImuType:
		return bundle(imuMsg, append(hdr, "geometry_msgs/Quaternion", quatMsg, "geometry_msgs/Vector3", vec3Msg)...)
	case MagneticFieldType:
		return bundle(magMsg, append(hdr, "geometry_msgs/Vector3", vec3Msg)...)
	case TemperatureType:
		return bundle(tempMsg, hdr...)
	case FluidPressureType:
		return bundle(pressureMsg, hdr...)
	}
	return ""
}

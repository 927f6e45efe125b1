package foxglove

// JSON Schemas of the ROS 2 messages IMU publishes, as Foxglove reads a
// json channel's schema: the fields, their types and their units.
const (
	timeSchema   = `{"type":"object","properties":{"sec":{"type":"integer"},"nanosec":{"type":"integer"}}}`
	headerSchema = `{"type":"object","properties":{"stamp":` + timeSchema + `,"frame_id":{"type":"string"}}}`
	covariance   = `{"type":"array","items":{"type":"number"},"minItems":9,"maxItems":9}`

	imuSchema = `{"title":"sensor_msgs/msg/Imu","type":"object","properties":{` +
		`"header":` + headerSchema + `,` +
		`"orientation":{"type":"object","description":"unit quaternion; orientation_covariance[0] = -1 when none","properties":{"x":{"type":"number"},"y":{"type":"number"},"z":{"type":"number"},"w":{"type":"number"}}},` +
		`"orientation_covariance":` + covariance + `,` +
		`"angular_velocity":{"description":"rad/s","type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"},"z":{"type":"number"}}},` +
		`"angular_velocity_covariance":` + covariance + `,` +
		`"linear_acceleration":{"description":"m/s^2","type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"},"z":{"type":"number"}}},` +
		`"linear_acceleration_covariance":` + covariance + `}}`

	temperatureSchema = `{"title":"sensor_msgs/msg/Temperature","type":"object","properties":{` +
		`"header":` + headerSchema + `,"temperature":{"type":"number","description":"degrees Celsius"},"variance":{"type":"number"}}}`

	magSchema = `{"title":"sensor_msgs/msg/MagneticField","type":"object","properties":{` +
		`"header":` + headerSchema + `,"magnetic_field":{"description":"tesla","type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"},"z":{"type":"number"}}},` +
		`"magnetic_field_covariance":` + covariance + `}}`

	pressureSchema = `{"title":"sensor_msgs/msg/FluidPressure","type":"object","properties":{` +
		`"header":` + headerSchema + `,"fluid_pressure":{"type":"number","description":"pascal"},"variance":{"type":"number"}}}`
)

// Package foxglove serves the Foxglove WebSocket protocol
// (subprotocol foxglove.websocket.v1), the subset a live data source needs:
// Server Info, Advertise (also later, when a channel first appears),
// Subscribe and Unsubscribe, Status, and binary Message Data. Clients
// cannot publish, call services or set parameters.
//
// The codec (package wsproto) has no I/O; Server owns the connections; IMU
// turns imustream samples into ROS-shaped JSON messages (sensor_msgs/msg/Imu
// and its companions) that Foxglove plots by field path without
// configuration.
//
// # Spec
//
// https://github.com/foxglove/ws-protocol/blob/main/docs/spec.md
//
// Publishing never waits for a client: each client has a bounded queue,
// and when a client reads slower than the stream its oldest messages are
// dropped and counted.
package foxglove

// Package bridge puts device streams on NATS: a Bridge subscribes to
// daemons with leases (receiver.Session over a control.Client) and
// publishes their datagrams, batched a few milliseconds at a time, to
// JetStream subjects PREFIX.DEVICE.imu, with the device's status on
// PREFIX.DEVICE.status. A message's payload is one or more whole telemetry
// datagrams as the daemon sent them, back to back; its headers name the
// device, the session and the first seq (docs/protocol.md, "Telemetry on
// NATS"). The session and seq are the device's, so a consumer counts loss
// exactly as a UDP receiver does.
//
// The UDP receive path never waits for NATS: batches go to a bounded queue
// and a full queue drops the batch and counts it. Publishing retries a
// batch until JetStream acknowledges it, under a message id that makes a
// repeat harmless, so a broker node that dies or a connection that drops
// costs nothing while the queue holds.
//
// Subscribe is the other end: it reads a subject live or from a position
// in the stream and hands each datagram to the caller.
package bridge

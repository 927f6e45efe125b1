// Package view is imustream's live view: a local web page with time
// plots of a stream (accel, gyro, temperature; magnetometer, orientation
// and pressure when the samples carry them), its health (rate, lost,
// duplicated, late, a histogram of the device's sample interval jitter)
// and start/stop buttons.
//
// A View is an output on the PC beside receiver.Recorder: each run between
// a start and a stop is a receiver.Recording (no file), whose session
// keeps the lease, and whose OnSample hands every sample recorded to the
// View's Hub and to further Sinks (the Foxglove server). The Hub decimates
// the samples to what a screen shows and sends frames over a WebSocket;
// nothing on the way waits for a browser: each page has a bounded queue
// that drops its oldest frame, counted, when the page is slow.
//
// A view made by NewNATS reads a device's stream from NATS instead
// (bridge.Record, as record --nats): the same Hub, Sinks and health, and
// no start or stop, since the bridge holds the device's lease.
//
// The page and uPlot (MIT, vendored from npm, see assets/uPlot.LICENSE)
// are embedded in the binary: no CDN, it works offline.
//
// # The page's WebSocket (/ws)
//
// Text messages, JSON. First {"type":"hello","device":ADDR} (with
// "readOnly":WHY when the page cannot start or stop the stream); then FPS
// times a second {"type":"data","frame":N,"n":SAMPLES,"total":ALL,...}:
// frame counts up by one (a gap is frames this page lost), n is the
// samples received since the last frame, decimated or not, and the
// columns session (hex), seq, mono (t_mono_ns as a decimal string: ns
// exceed a double), ax ay az gx gy gz temp, and, once any sample had
// them, mx my mz, qw qx qy qz, p (null where a sample has none) hold
// the samples kept, their values formatted as in the CSV. Every
// HubConfig.HealthEvery a frame carries "health": running, rateHz,
// nominalHz, the run's samples, lost, duplicated, reordered, late,
// sensorErrors, the hub's overflow and dropped, elapsedS, and the jitter
// histogram (jitterEdgesUs, jitter). The page sends {"op":"start"} or
// {"op":"stop"} (ParseControl); nothing else.
package view

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
// The page and uPlot (MIT, vendored from npm, see assets/uPlot.LICENSE)
// are embedded in the binary: no CDN, it works offline.
package view

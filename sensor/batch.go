package sensor

// Batcher is a sensor read through its FIFO: the chip samples on its own
// clock and each read takes every whole sample it holds.
//
// The caller sets dst[0].MonoNs and dst[0].WallNs to the time of the read,
// as it does for Read; ReadBatch fills dst[:n] with the oldest samples the
// FIFO holds (at most len(dst); the rest wait for the next call), each with
// the MonoNs and WallNs of the moment the chip took it, reconstructed from
// the sensor's sample clock (see package sensor/fifo), and the sensor's
// status bits (the caller adds its timing bits). A sample after an
// overflow carries StatusFIFOOverflow. n is 0 when no sample was due. On
// error n is 0 and dst[0] is flagged StatusSensorError with its values left
// alone, as Read leaves them. ReadBatch must not allocate.
type Batcher interface {
	ReadBatch(dst []Sample) (n int, err error)
	// FIFORateHz is the rate the chip samples into its FIFO, 0 when it is
	// not read through it: wrappers (calibration, the detected device)
	// have the method whatever they wrap.
	FIFORateHz() float64
}

// AsBatcher returns s as a Batcher when it is read through a FIFO.
func AsBatcher(s Sensor) (Batcher, bool) {
	b, ok := s.(Batcher)
	if !ok || b.FIFORateHz() <= 0 {
		return nil, false
	}
	return b, true
}

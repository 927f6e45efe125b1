package calib

import (
	"context"
	"fmt"
	"time"

	"github.com/imustream/imustream/sensor"
)

// Collect reads n samples from sens, period apart, into an accumulator;
// failed reads are flagged, so left out of the estimate, and counted. It
// stops early with ctx's error.
func Collect(ctx context.Context, sens sensor.Sensor, n int, period time.Duration) (acc *Accumulator, readErrs int, err error) {
	acc = new(Accumulator)
	readErrs, err = collect(ctx, sens, n, period, func(s *sensor.Sample) { acc.Add(s) })
	if err != nil {
		return nil, readErrs, err
	}
	return acc, readErrs, nil
}

// CollectMag is Collect for the magnetometer's readings (FitMag), while
// the device is turned in every direction.
func CollectMag(ctx context.Context, sens sensor.Sensor, n int, period time.Duration) (acc *MagAccumulator, readErrs int, err error) {
	acc = new(MagAccumulator)
	readErrs, err = collect(ctx, sens, n, period, func(s *sensor.Sample) { acc.Add(s) })
	if err != nil {
		return nil, readErrs, err
	}
	return acc, readErrs, nil
}

func collect(ctx context.Context, sens sensor.Sensor, n int, period time.Duration, add func(*sensor.Sample)) (readErrs int, err error) {
	var s sensor.Sample
	tick := time.NewTicker(period)
	defer tick.Stop()
	start := time.Now()
	for range n {
		select {
		case <-ctx.Done():
			return readErrs, fmt.Errorf("calib: calibration interrupted: %w", ctx.Err())
		case <-tick.C:
		}
		// The simulator takes its time from MonoNs; the chips ignore it.
		s.MonoNs = int64(time.Since(start))
		s.Status = 0
		if err := sens.Read(&s); err != nil {
			s.Status |= sensor.StatusSensorError
			readErrs++
		}
		add(&s)
	}
	return readErrs, nil
}

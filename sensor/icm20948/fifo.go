package icm20948

import (
	"fmt"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fifo"
)

func (d *Dev) fifoOn() bool { return d.set.opts.FIFO }

// FIFORateHz implements sensor.Batcher: the ODR with Opts.FIFO, else 0.
func (d *Dev) FIFORateHz() float64 {
	if !d.fifoOn() {
		return 0
	}
	return d.ODRHz()
}

// initFIFO resets the FIFO and queues accel, gyro and temp in snapshot
// mode (bank 0; datasheet 8.51–8.54).
func (d *Dev) initFIFO(user byte) error {
	for _, w := range [...]struct {
		reg, val byte
		name     string
	}{
		{regFIFOEn2, fifoEnAccGyrTmp, "FIFO_EN_2"},
		{regFIFOMode, fifoModeSnap, "FIFO_MODE"},
		{regFIFORst, fifoRstAll, "FIFO_RST (assert)"},
		{regFIFORst, 0, "FIFO_RST (release)"},
		{regUserCtrl, user | userFIFOEn, "USER_CTRL"},
	} {
		if err := d.writeReg(w.reg, w.val); err != nil {
			return fmt.Errorf("icm20948: writing %s: %w", w.name, err)
		}
	}
	if d.fifo == nil {
		d.fifo = fifo.NewTracker(d.ODRHz())
	}
	d.fifo.Restart()
	return nil
}

// ReadBatch implements sensor.Batcher (see the package documentation).
func (d *Dev) ReadBatch(dst []sensor.Sample) (int, error) {
	if !d.fifoOn() {
		return 0, nil
	}
	n, err := d.fifo.ReadBatch(dst, &d.burst.Recovery, (*fifoChip)(d))
	if n > 0 && !d.set.opts.NoMag {
		// The magnetometer is not in the FIFO: its latest reading goes
		// with the newest sample.
		d.w[0] = regExtSensData
		if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:akReadLen]); err == nil {
			decodeMag(&dst[n-1], d.buf[:akReadLen])
		}
	}
	return n, err
}

// fifoChip is the Dev as fifo.ReadBatch sees it.
type fifoChip Dev

func (c *fifoChip) Reinit() error { return (*Dev)(c).init(false) }

// Status reads INT_STATUS_2 (FIFO_OVERFLOW_INT) and FIFO_COUNT, in bytes.
func (c *fifoChip) Status() (int, bool, error) {
	d := (*Dev)(c)
	d.w[0] = regIntStatus2
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:1]); err != nil {
		return 0, false, fmt.Errorf("icm20948: reading INT_STATUS_2 at %#02x: %w", d.addr, err)
	}
	over := d.buf[0]&fifoOverflow != 0
	d.w[0] = regFIFOCountH
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:2]); err != nil {
		return 0, false, fmt.Errorf("icm20948: reading FIFO_COUNT at %#02x: %w", d.addr, err)
	}
	return int(d.buf[0]&0x1F)<<8 | int(d.buf[1]), over, nil
}

// Reset asserts and releases FIFO_RST.
func (c *fifoChip) Reset() error {
	d := (*Dev)(c)
	for _, v := range [...]byte{fifoRstAll, 0} {
		if err := d.writeReg(regFIFORst, v); err != nil {
			return fmt.Errorf("icm20948: resetting the FIFO after an overflow: %w", err)
		}
	}
	return nil
}

func (c *fifoChip) Drain(dst []sensor.Sample, count int) (int, int, error) {
	d := (*Dev)(c)
	queued := count / frameLen
	n := min(queued, len(dst), maxFrames)
	if n > 0 {
		d.w[0] = regFIFORW
		if err := d.bus.Tx(d.addr, d.w[:1], d.fbuf[:n*frameLen]); err != nil {
			return 0, 0, fmt.Errorf("icm20948: reading the FIFO at %#02x: %w", d.addr, err)
		}
	}
	for i := range n {
		dst[i].Status = 0
		d.decode(&dst[i], d.fbuf[i*frameLen:(i+1)*frameLen])
	}
	return n, queued, nil
}

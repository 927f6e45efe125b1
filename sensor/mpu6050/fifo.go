package mpu6050

import (
	"fmt"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fifo"
)

// fifoOn reports whether the Dev reads through the FIFO: asked for, and a
// chip that has the MPU-6500 register map.
func (d *Dev) fifoOn() bool { return d.opts.FIFO && d.chip.hasAccelConfig2() }

// FIFORateHz implements sensor.Batcher: the output data rate when the chip
// is read through its FIFO, 0 otherwise.
func (d *Dev) FIFORateHz() float64 {
	if !d.fifoOn() {
		return 0
	}
	return float64(d.opts.RateHz)
}

// initFIFO empties the FIFO and starts queueing every sample into it.
func (d *Dev) initFIFO() error {
	for _, w := range [...]struct {
		reg, val byte
		name     string
	}{
		{regUserCtrl, userFIFORst, "USER_CTRL (FIFO reset)"},
		{regUserCtrl, userFIFOEn, "USER_CTRL (FIFO on)"},
		{regFIFOEn, fifoEnAll, "FIFO_EN"},
	} {
		if err := d.writeReg(w.reg, w.val); err != nil {
			return fmt.Errorf("mpu6050: writing %s: %w", w.name, err)
		}
	}
	if d.fifo == nil {
		d.fifo = fifo.NewTracker(float64(d.opts.RateHz))
	}
	d.fifo.Restart()
	return nil
}

// ReadBatch implements sensor.Batcher: INT_STATUS for an overflow, then
// FIFO_COUNT, then every whole frame queued (at most len(dst)) in one
// burst from FIFO_R_W, each decoded as a Read sample and timed by the
// chip's sample clock (package sensor/fifo). An overflow resets the FIFO
// and flags the first sample after it; what the chip dropped is lost.
// Faults are handled as in Read, the re-initialisation restarting the
// FIFO.
func (d *Dev) ReadBatch(dst []sensor.Sample) (int, error) {
	if !d.fifoOn() {
		return 0, nil
	}
	return d.fifo.ReadBatch(dst, &d.burst.Recovery, (*fifoChip)(d))
}

// fifoChip is the Dev as fifo.ReadBatch sees it.
type fifoChip Dev

func (c *fifoChip) Reinit() error { return (*Dev)(c).init(false) }

// Status reads INT_STATUS (FIFO_OFLOW_INT) and FIFO_COUNT, in bytes; a
// count beyond the FIFO's size is an overflow too.
func (c *fifoChip) Status() (int, bool, error) {
	d := (*Dev)(c)
	d.w[0] = regIntStatus
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:1]); err != nil {
		return 0, false, fmt.Errorf("mpu6050: reading INT_STATUS at %#02x: %w", d.addr, err)
	}
	over := d.buf[0]&intFIFOOflow != 0
	d.w[0] = regFIFOCountH
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:2]); err != nil {
		return 0, false, fmt.Errorf("mpu6050: reading FIFO_COUNT at %#02x: %w", d.addr, err)
	}
	count := int(d.buf[0]&0x1F)<<8 | int(d.buf[1])
	return count, over || count > fifoSize, nil
}

func (c *fifoChip) Reset() error {
	d := (*Dev)(c)
	if err := d.writeReg(regUserCtrl, userFIFOEn|userFIFORst); err != nil {
		return fmt.Errorf("mpu6050: resetting the FIFO after an overflow: %w", err)
	}
	return nil
}

func (c *fifoChip) Drain(dst []sensor.Sample, count int) (int, int, error) {
	d := (*Dev)(c)
	queued := count / fifoFrame
	n := min(queued, len(dst), len(d.fbuf)/fifoFrame)
	if n > 0 {
		d.w[0] = regFIFORW
		if err := d.bus.Tx(d.addr, d.w[:1], d.fbuf[:n*fifoFrame]); err != nil {
			return 0, 0, fmt.Errorf("mpu6050: reading the FIFO at %#02x: %w", d.addr, err)
		}
	}
	for i := range n {
		dst[i].Status = 0
		d.decode(&dst[i], d.fbuf[i*fifoFrame:(i+1)*fifoFrame])
	}
	return n, queued, nil
}

// decode converts one 14-byte frame (the burst's layout) into s.
func (d *Dev) decode(s *sensor.Sample, b []byte) {
	_ = b[13]
	var acc, gyr [3]int16
	for i := range 3 {
		acc[i] = int16(uint16(b[2*i])<<8 | uint16(b[2*i+1]))
		gyr[i] = int16(uint16(b[8+2*i])<<8 | uint16(b[9+2*i]))
	}
	t := int16(uint16(b[6])<<8 | uint16(b[7]))
	s.TempC = float32(float64(t)/d.tempSens + d.tempOffset)
	d.burst.GoodCounts(s, acc, gyr, d.accelScale, d.gyroScale)
}

var _ sensor.Batcher = (*Dev)(nil)

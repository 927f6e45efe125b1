package lsm6dsox

import (
	"fmt"

	"github.com/imustream/imustream/sensor"
	"github.com/imustream/imustream/sensor/fifo"
)

func (d *Dev) fifoOn() bool { return d.set.opts.FIFO && d.chip.HasFIFO() }

// FIFORateHz implements sensor.Batcher: the ODR when the chip is read
// through its FIFO, 0 otherwise.
func (d *Dev) FIFORateHz() float64 {
	if !d.fifoOn() {
		return 0
	}
	return odrs[d.set.odr]
}

// initFIFO batches both sensors at the ODR and the temperature at 52 Hz,
// after emptying the FIFO (bypass mode).
func (d *Dev) initFIFO() error {
	if d.chip == LSM6DS3TRC {
		if err := d.initPatternFIFO(); err != nil {
			return err
		}
		return d.startFIFO()
	}
	for _, w := range [...]struct {
		reg, val byte
		name     string
	}{
		{regFIFOCtrl4, fifoModeBypass, "FIFO_CTRL4 (bypass)"},
		{regFIFOCtrl3, d.set.odr<<4 | d.set.odr, "FIFO_CTRL3"},
		{regFIFOCtrl4, fifoCtrl4Temp52Hz | fifoModeCont, "FIFO_CTRL4"},
	} {
		if err := d.writeReg(w.reg, w.val); err != nil {
			return fmt.Errorf("lsm6dsox: writing %s: %w", w.name, err)
		}
	}
	return d.startFIFO()
}

// startFIFO reads the temperature and restarts the sample clock.
func (d *Dev) startFIFO() error {
	// The FIFO's temperature comes at 52 Hz; until then, the register's.
	d.w[0] = regOutTempL
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:2]); err != nil {
		return fmt.Errorf("lsm6dsox: reading OUT_TEMP: %w", err)
	}
	d.tempC = tempC(le16(d.buf[:2]))
	if d.fifo == nil {
		d.fifo = fifo.NewTracker(odrs[d.set.odr])
	}
	d.fifo.Restart()
	d.slot = slot{}
	return nil
}

// ReadBatch implements sensor.Batcher (see the package documentation).
func (d *Dev) ReadBatch(dst []sensor.Sample) (int, error) {
	if !d.fifoOn() {
		return 0, nil
	}
	var c fifo.Chip = (*tagFIFO)(d)
	if d.chip == LSM6DS3TRC {
		c = (*patternFIFO)(d)
	}
	n, err := d.fifo.ReadBatch(dst, &d.burst.Recovery, c)
	if n > 0 {
		d.readMag(&dst[n-1])
	}
	return n, err
}

// tagFIFO is the Dev as fifo.ReadBatch sees an LSM6DSO(X) or ISM330DHCX:
// a FIFO of tagged words.
type tagFIFO Dev

func (c *tagFIFO) Reinit() error { return (*Dev)(c).init(false) }

// Status reads FIFO_STATUS1/2: DIFF_FIFO in words and FIFO_OVR_IA.
func (c *tagFIFO) Status() (int, bool, error) {
	d := (*Dev)(c)
	d.w[0] = regFIFOStatus1
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:2]); err != nil {
		return 0, false, fmt.Errorf("lsm6dsox: reading FIFO_STATUS at %#02x: %w", d.addr, err)
	}
	return int(d.buf[1]&fifoStatus2Diff)<<8 | int(d.buf[0]), d.buf[1]&fifoStatus2Ovr != 0, nil
}

// Reset empties the FIFO (bypass) and starts it again (continuous).
func (c *tagFIFO) Reset() error {
	d := (*Dev)(c)
	if err := d.writeReg(regFIFOCtrl4, fifoModeBypass); err != nil {
		return fmt.Errorf("lsm6dsox: emptying the FIFO after an overrun: %w", err)
	}
	if err := d.writeReg(regFIFOCtrl4, fifoCtrl4Temp52Hz|fifoModeCont); err != nil {
		return fmt.Errorf("lsm6dsox: restarting the FIFO after an overrun: %w", err)
	}
	d.slot = slot{}
	return nil
}

func (c *tagFIFO) Drain(dst []sensor.Sample, words int) (int, int, error) {
	d := (*Dev)(c)
	// A sample is two words; each word read can complete at most one.
	take := min(words, fifoWords, 2*len(dst))
	if take > 0 {
		d.w[0] = regFIFOTag
		if err := d.bus.Tx(d.addr, d.w[:1], d.fbuf[:take*wordLen]); err != nil {
			return 0, 0, fmt.Errorf("lsm6dsox: reading the FIFO at %#02x: %w", d.addr, err)
		}
	}
	n := d.parse(dst, d.fbuf[:take*wordLen])
	return n, n + (words-take)/2, nil
}

// parse decodes FIFO words into dst and returns how many samples they
// completed. Words of other sensors (timestamp, configuration change) are
// skipped; a gyroscope or accelerometer word whose counter differs from
// the pending one's starts a new sample, dropping the incomplete one.
func (d *Dev) parse(dst []sensor.Sample, words []byte) int {
	n := 0
	for len(words) >= wordLen && n < len(dst) {
		w := words[:wordLen]
		words = words[wordLen:]
		tag, cnt := w[0]>>3, (w[0]>>1)&3
		var v [3]int16
		for i := range 3 {
			v[i] = le16(w[1+2*i:])
		}
		switch tag {
		case tagTemp:
			d.tempC = tempC(v[0])
			continue
		case tagGyro, tagAccel:
		default:
			continue
		}
		sl := &d.slot
		if (sl.haveG || sl.hvA) && sl.cnt != cnt {
			*sl = slot{}
		}
		sl.cnt = cnt
		if tag == tagGyro {
			sl.g, sl.haveG = v, true
		} else {
			sl.a, sl.hvA = v, true
		}
		if sl.haveG && sl.hvA {
			s := &dst[n]
			s.Status = 0
			s.TempC = d.tempC
			d.burst.GoodCounts(s, sl.a, sl.g, d.accelScale, d.gyroScale)
			*sl = slot{}
			n++
		}
	}
	return n
}

package lsm6dsox

import (
	"fmt"

	"github.com/imustream/imustream/sensor"
)

// The LSM6DS3TR-C's FIFO holds untagged 16-bit words in a pattern that
// repeats (AN5130 8.5): with the gyroscope and accelerometer at the FIFO
// ODR and the temperature as the 4th data set decimated by f to about
// 52 Hz (its own rate, AN5130 9), one pattern is
//
//	Gx Gy Gz XLx XLy XLz T0 T1 T2, then (Gx Gy Gz XLx XLy XLz) × (f−1)
//
// 6f+3 words, the temperature in T1 (AN5130 8.9, table 74).
// FIFO_STATUS3/4 (FIFO_PATTERN) give the position of the next word read.

// Data sets of the pattern, in their FIFO order (AN5130 8).
const (
	setGyro = iota
	setAccel
	setTemp
)

// patState is the LSM6DS3TR-C FIFO's configuration and reading state.
type patState struct {
	len   int  // pattern length, 6f+3 words
	pos   int  // FIFO_PATTERN of the first word to read
	drop  bool // the next sample is the first after a (re)start
	empty bool // FIFO_EMPTY
}

// patDec returns DEC_DS4_FIFO and its factor for ODR code odr: the
// temperature goes into the FIFO at 52 Hz or the nearest rate above it
// that the factors 1, 2, 4, 8, 16, 32 give (AN5130 table 58).
func patDec(odr byte) (bits byte, factor int) {
	switch {
	case odr <= 3: // ≤ 52 Hz
		return 0b001, 1
	case odr == 4:
		return 0b010, 2
	case odr == 5:
		return 0b100, 4
	case odr == 6:
		return 0b101, 8
	case odr == 7:
		return 0b110, 16
	}
	return 0b111, patMaxDec
}

// word says which data set and axis position p of the pattern holds.
func (s *patState) word(p int) (set, axis int) {
	if p < 9 {
		return p / patSetWords, p % patSetWords
	}
	q := (p - 9) % 6
	return q / patSetWords, q % patSetWords
}

// initPatternFIFO empties the FIFO (bypass) and restarts it in
// continuous mode at the ODR: AN5130 8.3.1 (the configuration changed
// only in bypass), 8.9 (temperature as the 4th data set), 8.2.3.
func (d *Dev) initPatternFIFO() error {
	bits, f := patDec(d.set.odr)
	for _, w := range [...]struct {
		reg, val byte
		name     string
	}{
		{regPatFIFOCtrl5, patModeBypass, "FIFO_CTRL5 (bypass)"},
		{regPatFIFOCtrl3, patCtrl3NoDec, "FIFO_CTRL3"},
		{regPatFIFOCtrl4, bits << 3, "FIFO_CTRL4"},
		{regPatFIFOCtrl2, patCtrl2TempEn, "FIFO_CTRL2"},
		{regPatFIFOCtrl5, d.set.odr<<3 | patModeCont, "FIFO_CTRL5"},
	} {
		if err := d.writeReg(w.reg, w.val); err != nil {
			return fmt.Errorf("lsm6dsox: writing %s: %w", w.name, err)
		}
	}
	d.pat = patState{len: 6*f + 3, drop: true}
	return nil
}

// patternFIFO is the Dev as fifo.ReadBatch sees an LSM6DS3TR-C.
type patternFIFO Dev

func (c *patternFIFO) Reinit() error { return (*Dev)(c).init(false) }

// Status reads FIFO_STATUS1…4 in one burst (DocID030071 5.5.6): the
// unread words, OVER_RUN, FIFO_EMPTY and the pattern position.
func (c *patternFIFO) Status() (int, bool, error) {
	d := (*Dev)(c)
	d.w[0] = regPatFIFOStatus1
	if err := d.bus.Tx(d.addr, d.w[:1], d.buf[:4]); err != nil {
		return 0, false, fmt.Errorf("lsm6dsox: reading FIFO_STATUS at %#02x: %w", d.addr, err)
	}
	b := d.buf[:4]
	words := int(b[1]&patStatus2Diff)<<8 | int(b[0])
	p := &d.pat
	p.empty = b[1]&patStatus2Empty != 0
	p.pos = int(b[3]&patStatus4Mask)<<8 | int(b[2])
	over := b[1]&patStatus2Over != 0
	if !over && p.pos >= p.len {
		// Not the pattern this driver set up: the chip lost its
		// configuration. Counted as a fault; the re-initialisation
		// restarts the FIFO.
		return 0, false, fmt.Errorf("lsm6dsox: FIFO_PATTERN %d beyond the %d-word pattern at %#02x", p.pos, p.len, d.addr)
	}
	return words, over, nil
}

// Reset empties the FIFO (bypass) and starts it again (continuous).
func (c *patternFIFO) Reset() error {
	d := (*Dev)(c)
	if err := d.writeReg(regPatFIFOCtrl5, patModeBypass); err != nil {
		return fmt.Errorf("lsm6dsox: emptying the FIFO after an overrun: %w", err)
	}
	if err := d.writeReg(regPatFIFOCtrl5, d.set.odr<<3|patModeCont); err != nil {
		return fmt.Errorf("lsm6dsox: restarting the FIFO after an overrun: %w", err)
	}
	d.pat.drop = true
	return nil
}

// Drain reads the words up to the end of the last whole sample (and the
// temperature set after it) that dst and the buffer hold, in one burst
// from FIFO_DATA_OUT_L: with IF_INC the address rolls back from 0x3F to
// 0x3E (AN5130 4.7.1), so one read returns consecutive words.
func (c *patternFIFO) Drain(dst []sensor.Sample, words int) (int, int, error) {
	d := (*Dev)(c)
	if d.pat.empty {
		// Never read an empty FIFO (AN5130 8.4).
		words = 0
	}
	take, queued := d.pat.plan(words, len(dst))
	if take == 0 {
		return 0, queued, nil
	}
	d.w[0] = regPatFIFOData
	buf := d.fbuf[:2*take]
	if err := d.bus.Tx(d.addr, d.w[:1], buf); err != nil {
		return 0, 0, fmt.Errorf("lsm6dsox: reading the FIFO at %#02x: %w", d.addr, err)
	}
	return d.parsePattern(dst, buf), queued, nil
}

// aligned reports whether a read may start at pattern position p: at a
// gyroscope X word (a sample's first) or at the temperature set.
//
// Realignment: a read normally starts at one of those, since each read
// ends after a whole sample or temperature set. When it does not (a
// pattern counter that slipped, as ST's forums report on this FIFO
// generation when a sample lands during a read), the words before the
// next such position belong to a sample whose first words are gone: they
// are read in the same burst and discarded, at most 5 words.
func (s *patState) aligned(p int) bool {
	set, axis := s.word(p)
	return axis == 0 && set != setAccel
}

// plan walks words unread words from the pattern position and returns
// how many to read — discarded words first, then whole samples (at most
// maxSamples) and a temperature set that follows them — and how many
// whole samples the FIFO holds (the first after a restart not counted,
// as parsePattern drops it).
func (s *patState) plan(words, maxSamples int) (take, queued int) {
	pos, ok := s.pos, false
	drop := s.drop
	limit := false
	for i := range words {
		if !ok {
			ok = s.aligned(pos)
		}
		set, axis := s.word(pos)
		cut := !ok
		if ok && axis == patSetWords-1 && set != setGyro {
			cut = true
			if set == setAccel {
				if drop {
					drop = false
				} else {
					queued++
					limit = limit || queued > maxSamples
				}
			}
		}
		if cut && !limit && i < patBufWords {
			take = i + 1
		}
		if pos++; pos == s.len {
			pos = 0
		}
	}
	return take, queued
}

// parsePattern decodes the words b, read from the pattern position on,
// into dst and returns the number of samples.
func (d *Dev) parsePattern(dst []sensor.Sample, b []byte) int {
	s := &d.pat
	n, ok := 0, false
	var g, a [3]int16
	for i := 0; i+1 < len(b); i += 2 {
		p := s.pos
		if s.pos++; s.pos == s.len {
			s.pos = 0
		}
		if !ok {
			if ok = s.aligned(p); !ok {
				continue
			}
		}
		v := le16(b[i:])
		set, axis := s.word(p)
		switch set {
		case setGyro:
			g[axis] = v
		case setTemp:
			if axis == 1 {
				d.tempC = tempC(v)
			}
		case setAccel:
			a[axis] = v
			if axis < patSetWords-1 {
				continue
			}
			if s.drop {
				// The first sample after switching the FIFO mode is to
				// be discarded (DocID030071 5.5).
				s.drop = false
				continue
			}
			if n == len(dst) {
				continue
			}
			smp := &dst[n]
			smp.Status = 0
			smp.TempC = d.tempC
			d.burst.GoodCounts(smp, a, g, d.accelScale, d.gyroScale)
			n++
		}
	}
	return n
}

package bno055

// Page 0 registers (datasheet 4.2, 4.3).
const (
	regChipID     = 0x00
	regPageID     = 0x07
	regAccDataX   = 0x08 // first of the burst
	regUnitSel    = 0x3B
	regOprMode    = 0x3D
	regPwrMode    = 0x3E
	regSysTrigger = 0x3F
)

const (
	chipID       = 0xA0
	modeConfig   = 0x00
	modeNDOF     = 0x0C
	pwrNormal    = 0x00
	triggerReset = 1 << 5
	// unitSel: m/s², °/s, degrees, °C, Windows orientation (3.6.1).
	unitSel = 0x00
)

// Burst layout from ACC_DATA_X_LSB (table 4-2).
const (
	offAcc   = 0
	offMag   = 6
	offGyr   = 12
	offQua   = 24
	offTemp  = 44
	offCalib = 45
	burstLen = 46
)

// Scales (3.6.4).
const (
	accLSBPerMS2 = 100.0
	magLSBPerUT  = 16.0
	gyrLSBPerDPS = 16.0
	quaLSB       = 1 << 14
	// Full scales in NDOF (3.5.2): ±4 g, ±2000 °/s.
	accFullScaleLSB = 4 * 9.80665 * accLSBPerMS2
	gyrFullScaleLSB = 2000 * gyrLSBPerDPS
)

// I²C addresses.
const (
	AddrLow  uint16 = 0x28
	AddrHigh uint16 = 0x29
)

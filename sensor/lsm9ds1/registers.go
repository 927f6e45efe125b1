package lsm9ds1

// Accelerometer and gyroscope register addresses.
const (
	regWhoAmI     = 0x0F
	regCtrlReg1G  = 0x10 // ODR_G[7:5] FS_G[4:3] BW_G[1:0]
	regOutTempL   = 0x15 // First byte of the burst.
	regCtrlReg4   = 0x1E // Gyro axis enables.
	regCtrlReg5XL = 0x1F // Accel axis enables.
	regCtrlReg6XL = 0x20 // ODR_XL[7:5] FS_XL[4:3] BW_SCAL_ODR[2] BW_XL[1:0]
	regCtrlReg8   = 0x22
	regOutZHXL    = 0x2D // Last byte of the burst.
)

// WHO_AM_I of the accelerometer/gyroscope.
const whoAmIAG = 0x68

// CTRL_REG8 bits.
const (
	ctrl8BDU      = 1 << 6 // Block data update: LSB and MSB of one sample.
	ctrl8IfAddInc = 1 << 2 // Auto-increment the register address; default on.
	ctrl8SWReset  = 1 << 0
)

// xyzEnabled turns on the three axes in CTRL_REG4 (gyro) and CTRL_REG5_XL
// (accel); it is also their reset value.
const xyzEnabled = 0x38

// Field shifts in CTRL_REG1_G and CTRL_REG6_XL.
const (
	odrShift = 5
	fsShift  = 3
)

// I²C addresses.
const (
	AddrLow  uint16 = 0x6A // SDO_A/G to GND, as on the Sense HAT.
	AddrHigh uint16 = 0x6B
)

// Burst layout, as offsets from OUT_TEMP_L.
const (
	burstLen   = regOutZHXL - regOutTempL + 1
	offTemp    = 0                           // OUT_TEMP_L, _H
	offGyro    = 0x18 - regOutTempL          // OUT_X_L_G .. OUT_Z_H_G
	offCtrl6XL = regCtrlReg6XL - regOutTempL // configuration check
	offCtrl8   = regCtrlReg8 - regOutTempL
	offAccel   = 0x28 - regOutTempL // OUT_X_L_XL .. OUT_Z_H_XL
)

package mpu6050

// Register addresses, common to the MPU-6050 and MPU-6500/9250 register maps
// unless noted.
const (
	regSmplrtDiv    = 0x19
	regConfig       = 0x1A
	regGyroConfig   = 0x1B
	regAccelConfig  = 0x1C
	regAccelConfig2 = 0x1D // MPU-6500/9250 only: accelerometer DLPF.
	regAccelXOutH   = 0x3B // First of 14: ACCEL_XYZ, TEMP, GYRO_XYZ, big-endian.
	regPwrMgmt1     = 0x6B
	regPwrMgmt2     = 0x6C
	regWhoAmI       = 0x75
)

// PWR_MGMT_1 bits.
const (
	pwrDeviceReset = 1 << 7
	pwrSleep       = 1 << 6
	// pwrClkSel1 selects the X-gyro PLL on the MPU-6050 and "best available"
	// (the PLL once it is up) on the MPU-6500/9250: both are more stable
	// than the internal 8 MHz oscillator the chip starts on.
	pwrClkSel1 = 0x01
)

// PWR_MGMT_2 = 0 keeps every accelerometer and gyroscope axis on.
const pwrAllAxesOn = 0x00

// The full-scale fields FS_SEL (GYRO_CONFIG) and AFS_SEL (ACCEL_CONFIG) are
// bits 4:3. In GYRO_CONFIG of the MPU-6500/9250, bits 1:0 are FCHOICE_B,
// left at 0 so the DLPF is used.
const fsShift = 3

// WHO_AM_I values.
const (
	whoAmIMPU6050 = 0x68 // Also the MPU-6000 and MPU-9150.
	whoAmIMPU6500 = 0x70
	whoAmIMPU9250 = 0x71
	whoAmIMPU9255 = 0x73
)

// I²C addresses.
const (
	AddrAD0Low  uint16 = 0x68
	AddrAD0High uint16 = 0x69
)

// burstLen is ACCEL_XOUT_H through GYRO_ZOUT_L.
const burstLen = 14

package detect

import "flag"

// RegisterFlags adds the flags that pick and set up the chip on the bus
// (--bus, --addr, --accel-range, --gyro-range, --dlpf) to fs, bound to
// c; run, probe and calibrate share them, and the config file.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Bus, "bus", DefaultBus, "I²C `BUS`: 1, I2C1 or /dev/i2c-1")
	fs.Var((*Addr)(&c.Addr), "addr", "I²C `ADDR` of the IMU, e.g. 0x68 (default: probe the known ones)")
	fs.IntVar(&c.AccelRangeG, "accel-range", 0, "accelerometer full scale ±`G`: 2, 4, 8 or 16 g (default 4)")
	fs.IntVar(&c.GyroRangeDPS, "gyro-range", 0, "gyroscope full scale ±`DPS` (°/s): 250, 500, 1000, 2000 (MPU) or 245, 500, 2000 (LSM9DS1) (default 500)")
	fs.IntVar(&c.DLPFHz, "dlpf", 0, "MPU low-pass filter `HZ`: 184, 92, 41, 20, 10 or 5, at most half of --rate (default: the widest allowed); the LSM9DS1 has none to set")
}

// RegisterStreamFlags adds what the daemon reads besides the IMU
// (--pressure, --fifo, --mag) to fs, bound to c.
func (c *Config) RegisterStreamFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.Pressure, "pressure", true, "stream the pressure of a BMP180/BMP280/BME280 at 0x76/0x77 on the IMU's bus, if there is one (56-byte records)")
	fs.StringVar((*string)(&c.FIFO), "fifo", string(FIFOAuto), "read the chip through its FIFO, samples timed by its clock: `MODE` auto (on where the chip has one and --rate is above 200 Hz), on or off; the simulator only with on")
	fs.BoolVar(&c.Mag, "mag", true, "read the chip's magnetometer, if it has one (MPU-9250/9255, LSM9DS1), into every sample (84-byte records)")
}

package bench

import "fmt"

// Result is what one run measured; imustream bench --json prints it.
type Result struct {
	Machine    MachineInfo `json:"machine"`
	LoadBefore float64     `json:"loadavg_before"`
	LoadAfter  float64     `json:"loadavg_after"`
	// OtherCPU is the CPU used during the measurement by processes other
	// than the bench's (itself, the daemon, the baseline, the load), in
	// percent of one CPU: how much else was running.
	OtherCPU float64 `json:"other_cpu_percent"`
	// StealMs is the time a hypervisor ran something else while this
	// virtual machine's CPUs had work, summed over them: it delays ticks.
	StealMs      float64           `json:"steal_ms"`
	Config       Config            `json:"config"`
	Command      string            `json:"command"`
	Product      StreamResult      `json:"product"`
	Baseline     *StreamResult     `json:"baseline,omitempty"`
	Peer         *StreamResult     `json:"peer,omitempty"`
	DaemonStatus map[string]string `json:"daemon_status"`
	FloodSent    uint64            `json:"flood_sent"`
	// FloodOn and FloodOff split the daemon's timing between the seconds
	// with and without the hostile flood, which alternate.
	FloodOn      *FloodPhase `json:"flood_on,omitempty"`
	FloodOff     *FloodPhase `json:"flood_off,omitempty"`
	CommandsSent uint64      `json:"commands_sent"`
	// RigPackets and RigSamples are the rig's start packets sent and
	// samples received (Config.Rig), up to the end of the measurement.
	RigPackets   uint64  `json:"rig_packets,omitempty"`
	RigSamples   uint64  `json:"rig_samples,omitempty"`
	StartToFirst Summary `json:"start_to_first"`
	StopToEnd    Summary `json:"stop_to_end"`
	// CyclesResent counts the start and stop commands of the cycles that
	// had to be sent again.
	CyclesResent int `json:"cycles_resent"`
	// Floor is the machine's own wake-up timing in the same run
	// (Config.Floor).
	Floor *FloorResult `json:"floor,omitempty"`
}

// StreamResult is one stream's figures.
type StreamResult struct {
	Name  string `json:"name"`
	Sched string `json:"sched"`
	Counts
	Timing
	// CPUPercent and CPUPerTickUs are the run time of all the process's
	// threads (the scheduler's accounting), in percent of one CPU and in
	// µs per tick of the schedule.
	CPUPercent   float64 `json:"cpu_percent"`
	CPUPerTickUs float64 `json:"cpu_per_tick_us"`
	RSSKiB       int64   `json:"rss_kib"`
	PeakRSSKiB   int64   `json:"peak_rss_kib"`
	// GCCycles is how many garbage collections the process ran during the
	// measurement (GODEBUG=gctrace=1).
	GCCycles int `json:"gc_cycles"`
	// SenderBlocks is how often the daemon's real-time sender threads
	// blocked during the measurement, for Ticks ticks: once per tick and
	// thread means they only ever slept to their deadlines and never
	// waited for the rest of the process. Absent without RT priority (the
	// threads are not found).
	SenderBlocks *SenderBlocks `json:"sender_blocks,omitempty"`
}

// SenderBlocks counts the blocking of the daemon's sender threads.
type SenderBlocks struct {
	Threads  int    `json:"threads"`
	Ticks    uint64 `json:"ticks"`
	Switches uint64 `json:"voluntary_switches"`
}

// Sleeps is one sleep per tick and thread: what Switches would be if the
// threads blocked only to sleep to their deadlines.
func (b *SenderBlocks) Sleeps() uint64 { return b.Ticks * uint64(b.Threads) }

// FloodPhase is the daemon's timing over the seconds of one flood phase.
type FloodPhase struct {
	Interval Summary `json:"interval_dev"`
	Reported Summary `json:"reported_late"`
	// Skipped counts samples flagged as following skipped ticks.
	Skipped uint64 `json:"flagged_skipped"`
}

// FloorResult is what the floor probe measured: the machine's own
// wake-up timing for threads scheduled like the daemon's sender threads,
// with none of the daemon's work.
type FloorResult struct {
	Threads int `json:"threads"`
	// Interval is |interval − period| between the starts of consecutive
	// ticks (the first thread awake, after its spin, as in the sender): the
	// jitter figure, comparable to a stream's.
	Interval Summary `json:"interval_dev"`
	// Late is each tick's start after its deadline: comparable to the
	// daemon's reported late_ns.
	Late Summary `json:"late"`
	// ThreadLateMax is each thread's worst wake-up, µs.
	ThreadLateMax []float64 `json:"thread_late_max_us"`
}

// MachineInfo names the machine a result was measured on.
type MachineInfo struct {
	CPU     string `json:"cpu"`
	CPUs    int    `json:"cpus"`
	Virtual bool   `json:"virtual"`
	Kernel  string `json:"kernel"`
	Build   string `json:"kernel_build"` // uname -v: says PREEMPT, PREEMPT_RT…
	// Preempt is the kernel's preemption model: none, voluntary, full,
	// lazy or rt, from preempt= on its command line or else its config;
	// "" when neither says.
	Preempt string `json:"preempt"`
	// MHz is the CPU clock /proc/cpuinfo states (x86), 0 when it states
	// none: the cost per tick in cycles, for estimates on other CPUs.
	MHz float64 `json:"mhz,omitempty"`
	Go  string  `json:"go"`
}

func (m MachineInfo) String() string {
	v := ""
	if m.Virtual {
		v = " virtual machine"
	}
	p := ""
	if m.Preempt != "" {
		p = " (preempt=" + m.Preempt + ")"
	}
	return fmt.Sprintf("%s, %d-CPU%s, Linux %s%s, %s", m.CPU, m.CPUs, v, m.Kernel, p, m.Go)
}

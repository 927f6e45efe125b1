package daemon

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/imustream/imustream/discovery"
)

// announcer is the DNS-SD component: it announces the daemon on the LAN
// as NAME._imustream._udp.local, answers for NAME.local, and says goodbye
// when the daemon stops. Without a multicast interface it logs why and
// does nothing.
type announcer struct {
	r   *discovery.Responder
	log *slog.Logger
}

// announceName is the instance and host label: Config.AnnounceName, else
// the host name's first label.
func announceName(cfg *Config) string {
	if cfg.AnnounceName != "" {
		return cfg.AnnounceName
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "imustream"
	}
	h, _, _ = strings.Cut(h, ".")
	return h
}

// newAnnouncer returns nil when the config does not ask for it or no
// responder can be made (the reason is logged).
func newAnnouncer(d *Daemon) *announcer {
	if !d.cfg.Announce {
		return nil
	}
	addr := d.Addr()
	port := addr.Port()
	if addr.Addr().Unmap().IsLoopback() {
		// Nobody on the LAN could reach it: announcing would mislead.
		d.log.Debug("not announced on the LAN (DNS-SD): the control socket is on loopback only")
		return nil
	}
	key := "none"
	if d.srv.Authenticated() {
		key = "required"
	}
	st := d.sender.Stats()
	name := announceName(&d.cfg)
	svc := discovery.Service{Instance: name, Host: name, Port: port, TXT: []string{
		"txtvers=1",
		"version=" + d.cfg.Version,
		"sensor=" + d.cfg.Sensor.String(),
		"rate=" + strconv.Itoa(int(st.RateHz)),
		"batch=" + strconv.Itoa(st.Batch),
		"key=" + key,
	}}
	r, err := discovery.NewResponder(svc, addr.Addr())
	if err != nil {
		d.log.Warn("not announced on the LAN (DNS-SD)", "err", err)
		return nil
	}
	d.log.Info("announced on the LAN (DNS-SD)", "instance", name+"."+discovery.ServiceType+".local", "host", name+".local", "port", port)
	return &announcer{r: r, log: d.log}
}

// run answers until ctx ends, then says goodbye.
func (a *announcer) run(ctx context.Context) {
	if err := a.r.Run(ctx); err != nil {
		a.log.Warn("DNS-SD responder stopped", "err", err)
	}
}

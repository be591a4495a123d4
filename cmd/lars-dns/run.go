package main

import (
	"time"

	"github.com/larsgo/lars/internal/daemon"
	"github.com/larsgo/lars/routesvc"
	"github.com/larsgo/lars/store"
)

// shutdownLimit is how long a stop signal leaves the service to close, unless
// -shutdown-limit says otherwise.
const shutdownLimit = 2 * time.Second

// command is lars-dns's command line.
var command = daemon.Command[routesvc.Config]{
	Name:    "lars-dns",
	Summary: "The Lars route service: serves the route store to agents and pushes its changes.",
	Service: "route service",
	Conf:    "Lars lars_dns.conf: [reactor] ip, port, maxConn; [mysql] db_host, db_port, db_user, db_passwd, db_name; [tls] cert, key, ca",
	Listen:  routesvc.DefaultListen, ListenHelp: "agents connect to", MaxConns: routesvc.DefaultMaxConns, StopLimit: shutdownLimit,
	Own: ownFlags,
	New: func(cfg routesvc.Config, _ daemon.Settings, db *store.DB) (daemon.Service, error) {
		cfg.Store = db
		return routesvc.New(cfg)
	},
}

package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/waitfor"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/routesvc"
	"github.com/larsgo/lars/store"
)

// TestRegisterThroughAgentAndRouteService runs larsctl register against the real
// agent connected to the real route service (on SQLite, registration allowed): the
// instance becomes active, is written to the route store and served by the agent;
// the signal deregisters it and it leaves the store.
// registerStack starts the real route service on SQLite (registration allowed or
// not) and the real agent connected to it, and returns the store, its DSN and the
// agent's ports.
func registerStack(t *testing.T, allowRegister bool) (*store.DB, string, []uint16) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dns, err := routesvc.New(routesvc.Config{Store: db, Listen: "127.0.0.1:0", Poll: 20 * time.Millisecond,
		AllowRegister: allowRegister, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	dnsDone := make(chan error, 1)
	go func() { dnsDone <- dns.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-dnsDone })
	select {
	case <-dns.Ready():
	case err := <-dnsDone:
		t.Fatalf("lars-dns ended: %v", err)
	}
	a, err := agent.New(agent.Config{RouteService: []string{dns.Addr().String()}, Ports: []int{0, 0, 0},
		SocketsPerPort: 1, Wait: batchio.WaitPoll, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	t.Cleanup(func() { a.Close() })
	var ports []uint16
	for _, ap := range a.Addrs() {
		ports = append(ports, ap.Port())
	}
	return db, dsn, ports
}

// TestRegisterThroughAgentAndRouteService runs larsctl register against the real
// agent connected to the real route service (on SQLite, registration allowed): the
// instance becomes active, is written to the route store and served by the agent;
// the signal deregisters it and it leaves the store.
func TestRegisterThroughAgentAndRouteService(t *testing.T) {
	db, _, ports := registerStack(t, true)
	key, inst := route.Key{Modid: 31, Cmdid: 1}, route.FromWire(10<<24|31, 8031)
	inStore := func() bool {
		routes, err := db.Routes(context.Background(), []route.Key{key})
		return err == nil && slices.Contains(routes[key], inst)
	}
	began := time.Now()
	r := startRegister(t, ports, "register", "-ttl", "3s", "31", "1", "10.0.0.31", "8031")
	if !waitfor.Poll(waitLimit, func() bool { return strings.Contains(r.out.String(), "registered") }) {
		t.Fatalf("not registered; stdout:\n%s\nstderr:\n%s", r.out.String(), r.errOut.String())
	}
	t.Logf("registered in %v", time.Since(began))
	if !strings.Contains(r.out.String(), "active\n") || !inStore() {
		t.Fatalf("registered but not active and in the store; stdout:\n%s", r.out.String())
	}
	c, err := api.New(api.Config{Ports: ports, Timeout: waitLimit})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	served := func() bool {
		hosts, err := c.GetRoute(context.Background(), 31, 1, nil)
		return err == nil && slices.Contains(hosts, route.FromWire(10<<24|31, 8031))
	}
	if !waitfor.Poll(waitLimit, served) {
		t.Fatal("the registered instance is not served by the agent")
	}
	r.stop() // SIGTERM
	if code := r.exit(t); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, r.errOut.String())
	}
	t.Logf("stdout:\n%s", r.out.String())
	if !strings.HasSuffix(r.out.String(), "deregistered\n") {
		t.Errorf("stdout:\n%s", r.out.String())
	}
	start := time.Now()
	if !waitfor.Poll(waitLimit, func() bool { return !inStore() }) {
		t.Fatal("the deregistered instance stays in the store")
	}
	t.Logf("gone from the store %v after larsctl exited", time.Since(start))
}

// TestRegisterRefusedByRouteService: a route service started without
// -allow-register (and no policy) refuses; larsctl register says why and exits 1.
func TestRegisterRefusedByRouteService(t *testing.T) {
	_, _, ports := registerStack(t, false)
	code, out, errOut := larsctl(nil, "-ports", portsFlag(ports), "-timeout", answerLimit,
		"register", "31", "1", "10.0.0.31", "8031")
	check(t, code, out, errOut, exitFailure, "-")
	if !strings.Contains(errOut, "refused") || !strings.Contains(errOut, "-allow-register") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

// TestRegisterRemovedByOperator: an operator removes the registered instance
// (larsctl route del); the agent answers the next keepalive removed, and larsctl
// register exits 1 saying so.
func TestRegisterRemovedByOperator(t *testing.T) {
	_, dsn, ports := registerStack(t, true)
	r := startRegister(t, ports, "register", "-ttl", "1s", "31", "2", "10.0.0.32", "8032")
	if !waitfor.Poll(waitLimit, func() bool { return strings.Contains(r.out.String(), "registered") }) {
		t.Fatalf("not registered; stdout:\n%s\nstderr:\n%s", r.out.String(), r.errOut.String())
	}
	code, out, errOut := larsctl(nil, "-db", dsn, "route", "del", "31", "2", "10.0.0.32", "8032")
	check(t, code, out, errOut, exitOK, "-")
	code = r.exit(t)
	check(t, code, r.out.String(), r.errOut.String(), exitFailure, "-")
	if !strings.Contains(r.out.String(), "\nremoved") || !strings.Contains(r.errOut.String(), "removed") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.out.String(), r.errOut.String())
	}
	t.Logf("stdout:\n%sstderr:\n%s", r.out.String(), r.errOut.String())
}

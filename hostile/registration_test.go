package hostile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// The probes of registration (issue 31): who may register what under mutual TLS, and
// Lease frames that are malformed, oversized or carry too many entries.

// registerPolicy lets the site's agent register instances of modid 3 only.
const registerPolicy = `pull     agent/agent1  *
report   agent/agent1  *
register agent/agent1  3
`

// TestTLSRegistrationPolicy: with mutual TLS and a policy, lars-dns takes the agent's
// registration of a service a register rule grants its identity (recorded under that
// identity), and refuses another with the reason, counted; larsctl register says it
// and fails.
func TestTLSRegistrationPolicy(t *testing.T) {
	requireHostile(t)
	s := tlsStartWith(t, func(dir string) []string {
		file := filepath.Join(dir, "policy")
		if err := os.WriteFile(file, []byte(registerPolicy), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"-policy", file}
	})
	reg := proctest.Start(t, "larsctl", "-ports", s.agentPort, "register", "3", "1", "127.0.0.1", "9301", "-ttl", "2s")
	k := route.Key{Modid: 3, Cmdid: 1}
	proctest.Eventually(t, tlsWithin, "3/1 registered by agent/agent1", func() (bool, string) {
		leases, err := s.db.LeasesOf(context.Background(), []route.Key{k})
		if err != nil {
			return false, err.Error()
		}
		for l, info := range leases {
			if l.Key == k && info.Owner == "agent/agent1" {
				return true, ""
			}
		}
		return false, fmt.Sprint(leases)
	})

	code, out := proctest.Run(t, "larsctl", "-ports", s.agentPort, "register", "4", "1", "127.0.0.1", "9401", "-ttl", "2s")
	if code != 1 || !strings.Contains(out, "agent/agent1 may not register service 4/1") {
		t.Errorf("registration of a service the policy does not grant: exit %d\n%s", code, out)
	}
	waitMetric(t, s.dnsAdmin, `lars_dns_registrations_refused_total{cause="denied"}`, 1)
	routes, err := s.db.Routes(context.Background(), []route.Key{{Modid: 4, Cmdid: 1}})
	if err != nil || len(routes) != 0 {
		t.Errorf("4/1 in the store after a refused registration: %v, %v", routes, err)
	}
	if code, _ := reg.Stop(t); code != 0 {
		t.Errorf("larsctl register: exit %d after SIGTERM\n%s", code, reg.Output())
	}
}

// leaseFrame encodes a Lease of n entries of modid 7 (distinct hosts), or, with raw
// set, a frame of msgid 105 whose body is raw.
func leaseFrame(t *testing.T, n int, raw []byte) []byte {
	t.Helper()
	if raw != nil {
		return append(codec.AppendHeader(nil, codec.MsgLease, len(raw)), raw...)
	}
	m := &larspb.Lease{}
	for i := range n {
		m.Entries = append(m.Entries, &larspb.LeaseEntry{Modid: 7, Cmdid: 1, TtlMs: 10_000,
			Host: &larspb.HostInfo{Ip: 10<<24 | int32(i+1), Port: 9000}})
	}
	frame, err := codec.AppendFrame(nil, codec.MsgLease, m)
	if err != nil {
		t.Fatal(err)
	}
	return frame
}

// TestDNSBadLeaseFrames: a Lease of more entries than a frame may carry is dropped
// and counted, the connection kept; a Lease whose body does not parse, and one longer
// than the protocol allows, close their connection, counted; none of it registers
// anything, and a real agent's route changes still arrive.
func TestDNSBadLeaseFrames(t *testing.T) {
	requireHostile(t)
	r := dnsStart(t, "-allow-register=true")
	r.startAgent()

	c := r.dial()
	if _, err := c.nc.Write(leaseFrame(t, 1025, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.nc.Write(dnsPullFrame(1, 1)); err != nil {
		t.Fatal(err)
	}
	id, _, err := c.next(dnsWithin)
	if err != nil || id != codec.MsgGetRouteResponse {
		t.Fatalf("after a Lease of 1,025 entries, a pull's answer: id %d, %v (want the connection kept)", id, err)
	}
	if v := r.metric(`lars_dns_lease_frames_total{result="too_many_entries"}`); v != 1 {
		t.Errorf("too_many_entries = %v, want 1", v)
	}

	bad := r.dial()
	if _, err := bad.nc.Write(leaseFrame(t, 0, []byte{0x0a, 0xff, 0xff, 0xff})); err != nil {
		t.Fatal(err)
	}
	if !bad.closedWithin(dnsWithin) {
		t.Error("a Lease whose body does not parse did not close its connection")
	}
	if v := r.metric(`lars_dns_lease_frames_total{result="malformed"}`); v != 1 {
		t.Errorf("malformed = %v, want 1", v)
	}

	huge := r.dial()
	if _, err := huge.nc.Write(codec.AppendHeader(nil, codec.MsgLease, codec.MaxBodySize+1)); err != nil {
		t.Fatal(err)
	}
	if !huge.closedWithin(dnsWithin) {
		t.Error("a Lease longer than the protocol allows did not close its connection")
	}

	db, err := store.Open(context.Background(), r.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if routes, err := db.Routes(context.Background(), []route.Key{{Modid: 7, Cmdid: 1}}); err != nil || len(routes) != 0 {
		t.Errorf("7/1 in the store after bad Lease frames: %v, %v", routes, err)
	}
	r.changeReachesAgent()
}

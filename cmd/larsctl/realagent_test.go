package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/agenttest"
	"github.com/larsgo/lars/route"
)

// TestSimulateRealAgentOverload runs simulate with a high error rate against the real
// agent: its hosts get overloaded, and the refused calls show in the output.
func TestSimulateRealAgentOverload(t *testing.T) {
	routes := map[route.Key][]route.Host{{Modid: 7, Cmdid: 1}: {
		route.FromWire(10<<24|1, 80), route.FromWire(10<<24|2, 80)}}
	a, agentPorts := agenttest.Start(t, routes, 3)
	var ports []string
	for _, p := range agentPorts {
		ports = append(ports, fmt.Sprint(p))
	}
	var out, errOut bytes.Buffer
	code := run([]string{"-ports", strings.Join(ports, ","), "-timeout", answerLimit,
		"simulate", "-n", "300", "-err-rate", "0.9", "-seed", "1", "7", "1"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var overload, total int
	for _, line := range strings.Split(out.String(), "\n") {
		var h string
		var s, e int
		if n, _ := fmt.Sscanf(line, "host %s succ %d err %d", &h, &s, &e); n == 3 {
			total += s + e
		}
		fmt.Sscanf(line, "overload %d", &overload)
	}
	if overload == 0 || total == 0 || total+overload != 300 {
		t.Fatalf("with 90%% failures: %d calls with a host, %d refused as overloaded:\n%s", total, overload, out.String())
	}
	if a.Table().Stats().HostsOverloaded == 0 {
		t.Fatal("the agent has no overloaded host")
	}
}

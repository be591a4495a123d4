package hostile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/proctest"
)

// The policy of the site in TestTLSPolicy: the agent pulls and reports modid 1 only;
// the script's client certificate may pull modid 2 and report nothing.
const sitePolicy = `# who      may        what
pull   agent/agent1  1
report agent/agent1  1
pull   client/script 2
`

// TestTLSPolicy: lars-dns and lars-reporter run with -policy; the real agent serves
// the modid it is granted and gets no host for another; its report of a service not
// granted is dropped; the client certificate pulls only its own modid and cannot
// report at all; every refusal is counted, and /metrics names each identity.
func TestTLSPolicy(t *testing.T) {
	requireHostile(t)
	s := tlsStartWith(t, func(dir string) []string {
		file := filepath.Join(dir, "policy")
		if err := os.WriteFile(file, []byte(sitePolicy), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"-policy", file}
	})
	tlsLarsctl(t, "-db", s.dsn, "route", "add", "2", "1", "10.0.0.2", "9000")
	s.waitHost(t, "10.0.0.1:9000")
	code, out := proctest.Run(t, "larsctl", "-ports", s.agentPort, "get-host", "2", "1")
	if code == 0 || strings.Contains(out, "10.0.0.2") {
		t.Errorf("the agent served 2/1, which the policy does not grant it: exit %d %q", code, out)
	}
	waitMetric(t, s.dnsAdmin, "lars_dns_pulls_denied_total", 1)

	// The agent's certificate reporting modid 2: dropped, counted.
	agent, err := tlsDial(t, s.files("agent", "agent1"), s.repAddr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Write(reportFrame(t, 2, 1, 2)); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, s.repAdmin, `lars_reporter_dropped_rows_total{reason="policy"}`, 1)

	// The script: pulls 2/1, gets nothing for 1/1, and may not report.
	script, err := tlsDial(t, s.files("client", "script"), s.dnsAddr)
	if err != nil {
		t.Fatal(err)
	}
	sr := codec.NewStreamReader(script, 0)
	for _, c := range []struct {
		modid int32
		want  int
	}{{2, 1}, {1, 0}} {
		frame, err := codec.AppendFrame(nil, codec.MsgGetRouteRequest, &larspb.GetRouteRequest{Modid: c.modid, Cmdid: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := script.Write(frame); err != nil {
			t.Fatal(err)
		}
		script.SetReadDeadline(time.Now().Add(tlsWithin))
		id, body, err := sr.Next()
		if err != nil || id != codec.MsgGetRouteResponse {
			t.Fatalf("the script's pull of %d/1: id %d, %v", c.modid, id, err)
		}
		var resp larspb.GetRouteResponse
		if err := resp.UnmarshalVT(body); err != nil || resp.Modid != c.modid || len(resp.Host) != c.want {
			t.Errorf("the script's pull of %d/1: %v, %v: want %d hosts", c.modid, &resp, err, c.want)
		}
	}
	rep, err := tlsDial(t, s.files("client", "script"), s.repAddr)
	if err != nil {
		t.Fatal(err)
	}
	if !sendAndWaitClose(rep, reportFrame(t, 2, 1, 3)) {
		t.Error("lars-reporter kept the script's connection, which no report rule names")
	}
	waitMetric(t, s.repAdmin, `lars_reporter_connections_closed_total{cause="not_allowed"}`, 1)
	waitMetric(t, s.dnsAdmin, `lars_dns_peer_connections{peer="agent/agent1"}`, 1)
	waitMetric(t, s.dnsAdmin, `lars_dns_peer_pulls_total{peer="client/script"}`, 2)
	var n int
	if err := s.db.SQL().QueryRowContext(context.Background(),
		"SELECT COUNT(*) FROM ServerCallStatus WHERE modid = 2").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows of modid 2 stored (%v), which no identity may report", n, err)
	}
	d, m := tlsScrape(t, s.dnsAdmin), tlsScrape(t, s.repAdmin)
	t.Logf("lars-dns: pulls denied %.0f; lars-reporter: rows dropped by the policy %.0f, connections not allowed %.0f",
		d["lars_dns_pulls_denied_total"], m[`lars_reporter_dropped_rows_total{reason="policy"}`],
		m[`lars_reporter_connections_closed_total{cause="not_allowed"}`])
}

// reportFrame is a report of key modid/cmdid: one success of 6.6.6.3:port.
func reportFrame(t *testing.T, modid, cmdid, port int32) []byte {
	t.Helper()
	req := larspb.ReportStatusRequest{Modid: modid, Cmdid: cmdid, Caller: 1, Ts: uint32(time.Now().Unix()),
		Results: []*larspb.HostCallResult{{Ip: 6<<24 | 6<<16 | 6<<8 | 3, Port: port, Succ: 1}}}
	frame, err := codec.AppendFrame(nil, codec.MsgReportStatusRequest, &req)
	if err != nil {
		t.Fatal(err)
	}
	return frame
}

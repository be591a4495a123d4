package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
)

var getHostCmd = &command{
	name:    "get-host",
	args:    "MODID CMDID",
	summary: "ask the agent which host to call for the key; prints ip:port",
	run: func(e *env, _ any, args []string) error {
		modid, cmdid, err := keyArgs(args, 2)
		if err != nil {
			return err
		}
		c, err := e.keyClient(modid, cmdid)
		if err != nil {
			return err
		}
		defer c.Close()
		h, err := c.GetHost(context.Background(), modid, cmdid)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, h)
		return nil
	},
}

var getRouteCmd = &command{
	name:    "get-route",
	args:    "MODID CMDID",
	summary: "print every host of the key, one ip:port per line in address order, then \"N hosts\"",
	run: func(e *env, _ any, args []string) error {
		modid, cmdid, err := keyArgs(args, 2)
		if err != nil {
			return err
		}
		c, err := e.keyClient(modid, cmdid)
		if err != nil {
			return err
		}
		defer c.Close()
		hosts, err := c.GetRoute(context.Background(), modid, cmdid, nil)
		if err != nil {
			return err
		}
		sortHosts(hosts)
		for _, h := range hosts {
			fmt.Fprintln(e.stdout, h)
		}
		fmt.Fprintf(e.stdout, "%d hosts\n", len(hosts))
		if len(hosts) == 0 {
			return api.ErrNoExist
		}
		return nil
	},
}

var reportCmd = &command{
	name: "report",
	args: "MODID CMDID IP PORT 0|1 [-latency D]",
	summary: "report a call to host IP:PORT for the key: 0 it succeeded, 1 it failed;\n" +
		"-latency sends the call's latency too (latency_us, used by agents with policy=ewma)",
	flags: func(fs *flag.FlagSet) any {
		latency := new(time.Duration)
		fs.DurationVar(latency, "latency", 0, "the call's latency (default none)")
		return latency
	},
	run: func(e *env, opts any, args []string) error {
		modid, cmdid, err := keyArgs(args, 5)
		if err != nil {
			return err
		}
		ip, err := codec.ParseIPv4(args[2])
		if err != nil {
			return usagef("IP %q: not an IPv4 address", args[2])
		}
		port, err := strconv.ParseUint(args[3], 10, 16)
		if err != nil {
			return usagef("PORT %q: not a port number", args[3])
		}
		if args[4] != "0" && args[4] != "1" {
			return usagef("result %q: want 0 (success) or 1 (failure)", args[4])
		}
		latency := *opts.(*time.Duration)
		if latency < 0 {
			return usagef("-latency %v: must not be negative", latency)
		}
		retcode := int32(args[4][0] - '0')
		c, err := e.client()
		if err != nil {
			return err
		}
		defer c.Close()
		h := api.Host{IP: ip, Port: int32(port)}
		if latency == 0 {
			return c.Report(modid, cmdid, h, retcode)
		}
		r := latencyReporter{c: c}
		defer r.close()
		return r.report(modid, cmdid, h, retcode, latency)
	},
}

// latencyReporter sends reports with the latency_us extension of ReportRequest, which
// api.Client.Report does not send: to the agent port of the key, as the client would,
// over one UDP socket per port opened on first use.
type latencyReporter struct {
	c     *api.Client
	conns map[uint16]*net.UDPConn
	buf   []byte
}

// report sends one report of a call to h that took latency.
func (r *latencyReporter) report(modid, cmdid int32, h api.Host, retcode int32, latency time.Duration) error {
	port := r.c.Port(modid, cmdid)
	conn := r.conns[port]
	if conn == nil {
		var err error
		conn, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.c.Agent(), port)))
		if err != nil {
			return fmt.Errorf("%w: %v", api.ErrAgentUnreachable, err)
		}
		if r.conns == nil {
			r.conns = make(map[uint16]*net.UDPConn)
		}
		r.conns[port] = conn
	}
	us := uint32(min(max(latency.Microseconds(), 1), math.MaxUint32))
	msg := larspb.ReportRequest{Modid: modid, Cmdid: cmdid, Host: &larspb.HostInfo{Ip: h.IP, Port: h.Port}, Retcode: retcode, LatencyUs: us}
	b, err := codec.AppendFrame(r.buf[:0], codec.MsgReportRequest, &msg)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	r.buf = b
	if _, err := conn.Write(b); err != nil {
		return fmt.Errorf("%w: %v", api.ErrAgentUnreachable, err)
	}
	return nil
}

func (r *latencyReporter) close() {
	for _, c := range r.conns {
		c.Close()
	}
}

// sortHosts sorts hosts by address, then port.
func sortHosts(hosts []api.Host) {
	slices.SortFunc(hosts, func(a, b api.Host) int {
		return cmp.Or(cmp.Compare(uint32(a.IP), uint32(b.IP)), cmp.Compare(a.Port, b.Port))
	})
}

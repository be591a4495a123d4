package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// writeStatusTable writes status's table, the rows in the order given, each report's
// age measured from now.
func writeStatusTable(w io.Writer, statuses []store.CallStatus, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tHOST\tCALLER\tSUCC\tERR\tERR%\tOVERLOADED\tAGE")
	overloaded := 0
	for _, s := range statuses {
		over := "no"
		if s.Overload {
			over = "yes"
			overloaded++
		}
		fmt.Fprintf(tw, "%d/%d\t%v\t%s\t%d\t%d\t%s\t%s\t%s\n", s.Key.Modid, s.Key.Cmdid, s.Host,
			route.AddrFromWire(s.Caller).String(), s.Succ, s.Err, formatErrRate(s.Succ, s.Err), over,
			formatAge(now.Unix()-s.TS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s, %d overloaded\n", countReports(len(statuses)), overloaded)
	return err
}

// formatErrRate returns err/(succ+err) as a percentage with one decimal, "-" when
// there were no calls.
func formatErrRate(succ, errs uint32) string {
	total := uint64(succ) + uint64(errs)
	if total == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(errs)/float64(total), 'f', 1, 64) + "%"
}

// formatAge returns an age of secs seconds in at most two units: "42s", "3m05s",
// "2h07m", "3d04h". A negative age (the reporting agent's clock is ahead) keeps its
// sign.
func formatAge(secs int64) string {
	if secs < 0 {
		return "-" + formatAge(-secs)
	}
	switch {
	case secs < 60:
		return fmt.Sprintf("%ds", secs)
	case secs < 3600:
		return fmt.Sprintf("%dm%02ds", secs/60, secs%60)
	case secs < 86400:
		return fmt.Sprintf("%dh%02dm", secs/3600, secs%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", secs/86400, secs%86400/3600)
}

// countReports returns "1 report" or "N reports".
func countReports(n int) string {
	if n == 1 {
		return "1 report"
	}
	return strconv.Itoa(n) + " reports"
}

// jsonStatus is one row of status -json.
type jsonStatus struct {
	Modid      int32  `json:"modid"`
	Cmdid      int32  `json:"cmdid"`
	IP         string `json:"ip"`
	Port       int32  `json:"port"`
	Caller     string `json:"caller"`
	Succ       uint32 `json:"succ"`
	Err        uint32 `json:"err"`
	Overloaded bool   `json:"overloaded"`
	TS         int64  `json:"ts"`
}

// writeStatusJSON writes status -json's array, in the table's order.
func writeStatusJSON(w io.Writer, statuses []store.CallStatus) error {
	out := make([]jsonStatus, 0, len(statuses))
	for _, s := range statuses {
		out = append(out, jsonStatus{
			Modid: s.Key.Modid, Cmdid: s.Key.Cmdid, IP: s.Host.Addr.Addr().String(), Port: int32(s.Host.Addr.Port()),
			Caller: route.AddrFromWire(s.Caller).String(), Succ: s.Succ, Err: s.Err, Overloaded: s.Overload, TS: s.TS,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

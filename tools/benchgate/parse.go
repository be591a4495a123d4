package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// row is one benchmark's comparison for one unit.
type row struct {
	pkg, name, unit string
	old, new        float64
	delta           float64 // percent change, new vs old; 0 when benchstat says "~"
	significant     bool    // benchstat found the change significant
	p               float64
}

// parse reads benchstat's CSV output: "pkg: X" lines, a header row per unit
// (",unit,CI,unit,CI,vs base,P"), then one row per benchmark.
func parse(in io.Reader) ([]row, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	var rows []row
	pkg, unit := "", ""
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read benchstat CSV: %w", err)
		}
		if len(rec) == 1 {
			if p, ok := strings.CutPrefix(rec[0], "pkg: "); ok {
				pkg = p
			}
			continue
		}
		if len(rec) < 7 {
			continue
		}
		if rec[0] == "" {
			if rec[5] == "vs base" {
				unit = rec[1]
			}
			continue
		}
		if rec[0] == "geomean" || unit == "" {
			continue
		}
		old, err1 := strconv.ParseFloat(rec[1], 64)
		nw, err2 := strconv.ParseFloat(rec[3], 64)
		if err1 != nil || err2 != nil {
			continue // a benchmark present on one side only
		}
		rw := row{pkg: pkg, name: rec[0], unit: unit, old: old, new: nw, p: 1}
		if d := rec[5]; d != "~" && d != "" {
			v, err := strconv.ParseFloat(strings.TrimSuffix(d, "%"), 64)
			if err == nil {
				rw.delta, rw.significant = v, true
			}
		}
		if ps, ok := strings.CutPrefix(rec[6], "p="); ok {
			ps, _, _ = strings.Cut(ps, " ")
			if v, err := strconv.ParseFloat(ps, 64); err == nil {
				rw.p = v
			}
		}
		rows = append(rows, rw)
	}
	return rows, nil
}

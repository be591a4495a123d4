package stats

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// NewTable returns a writer of text tables: cells end with a tab, and the columns
// are aligned right, two spaces apart, when it is flushed.
func NewTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
}

// EndTable flushes the table tw, then writes the line below it to w, where the
// table went: the result the rows lead to.
func EndTable(tw *tabwriter.Writer, w io.Writer, format string, args ...any) error {
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, format, args...)
	return err
}

// Decimals formats a figure with fewer decimals as it grows: none from big up, one
// from mid up, small below.
func Decimals(v, big, mid float64, small int) string {
	switch {
	case v >= big:
		return fmt.Sprintf("%.0f", v)
	case v >= mid:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.*f", small, v)
}

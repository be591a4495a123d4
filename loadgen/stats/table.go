package stats

import (
	"io"
	"text/tabwriter"
)

// NewTable returns a writer of text tables: cells end with a tab, and the columns
// are aligned right, two spaces apart, when it is flushed.
func NewTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
}

package report

import (
	"encoding/json"
	"io"
)

// Document is a report of a run or of a capacity search.
type Document interface {
	// WriteText writes the report as readable lines and tables.
	WriteText(w io.Writer) error
	// WriteCSV writes the report's series, or its steps, one line each after a header.
	WriteCSV(w io.Writer) error
	// WriteHTML writes a self-contained page of charts and tables.
	WriteHTML(w io.Writer) error
	// WriteJSON writes the report as JSON, the form that compare reads back.
	WriteJSON(w io.Writer) error
}

// WriteJSON writes v as JSON indented by two spaces, the form of every -json report.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

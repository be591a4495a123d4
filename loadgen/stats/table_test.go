package stats

import (
	"bytes"
	"fmt"
	"testing"
)

func TestTable(t *testing.T) {
	var b bytes.Buffer
	tw := NewTable(&b)
	fmt.Fprintln(tw, "rate\tp99\t")
	fmt.Fprintf(tw, "%d\t%s\t\n", 1000, Decimals(0.1234, 100, 1, 3))
	fmt.Fprintf(tw, "%d\t%s\t\n", 20, Decimals(12.34, 100, 1, 3))
	fmt.Fprintf(tw, "%d\t%s\t\n", 3, Decimals(1234, 100, 1, 3))
	if err := EndTable(tw, &b, "\ncapacity: %d\n", 20); err != nil {
		t.Fatal(err)
	}
	want := "  rate    p99\n  1000  0.123\n    20   12.3\n     3   1234\n\ncapacity: 20\n"
	if b.String() != want {
		t.Errorf("table\n%q\nwant\n%q", b.String(), want)
	}
}

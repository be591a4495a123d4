package route

import (
	"errors"
	"strings"
	"testing"
)

func TestParseLineForms(t *testing.T) {
	cases := map[string]string{
		"1 2 10.0.0.1 80":                           "1 2 10.0.0.1 80",
		"1\t2  10.0.0.1 80   # comment":             "1 2 10.0.0.1 80",
		"1 2 2001:db8::1 80 weight=300":             "1 2 2001:db8::1 80 weight=300",
		"1 2 [2001:db8::1] 80 zone=sh-a weight=300": "1 2 2001:db8::1 80 weight=300 zone=sh-a",
	}
	for in, want := range cases {
		k, h, ok, err := ParseLine(in)
		if err != nil || !ok {
			t.Fatalf("ParseLine(%q) = %v, %v", in, ok, err)
		}
		if got := string(AppendLine(nil, k, h)); got != want {
			t.Errorf("AppendLine(ParseLine(%q)) = %q, want %q", in, got, want)
		}
	}
	for _, blank := range []string{"", "   ", "# x", "  # 1 2 3 4"} {
		if _, _, ok, err := ParseLine(blank); ok || err != nil {
			t.Errorf("ParseLine(%q) = %v, %v; want no route", blank, ok, err)
		}
	}
	for _, bad := range []string{"1 2 10.0.0.1", "1 2 10.0.0.1 80 weight=1 zone=a x", "-1 2 10.0.0.1 80", "1 2 10.0.0.1 0",
		"1 2 10.0.0.1 80 weight=0", "1 2 10.0.0.1 80 zone=a zone=b", "1 2 10.0.0.1:80 80", "1 2 10.0.0.1 80 w=1"} {
		if _, _, _, err := ParseLine(bad); err == nil {
			t.Errorf("ParseLine(%q) accepted", bad)
		}
	}
}

func TestParseRoutes(t *testing.T) {
	in := "# routes\n1 1 10.0.0.2 80\n1 1 10.0.0.1 80 weight=2\n\n1 1 10.0.0.2 80\n2 5 ::1 90 zone=z\n"
	routes, err := ParseRoutes(strings.NewReader(in), "t")
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatHostList(routes[Key{1, 1}]); got != "10.0.0.1:80;weight=2 10.0.0.2:80" {
		t.Fatalf("1/1 = %q (normalised, duplicate once)", got)
	}
	if got := FormatHostList(routes[Key{2, 5}]); got != "[::1]:90;zone=z" {
		t.Fatalf("2/5 = %q", got)
	}
	if keys := SortedKeys(routes); len(keys) != 2 || keys[0] != (Key{1, 1}) {
		t.Fatalf("SortedKeys = %v", keys)
	}
	_, err = ParseRoutes(strings.NewReader("1 1 10.0.0.1 80\n1 1 10.0.0.1 80 weight=3\n"), "f")
	if !errors.Is(err, ErrBadRoutes) || !strings.Contains(err.Error(), "f line 2") {
		t.Fatalf("conflicting duplicate: err = %v", err)
	}
	_, err = ParseRoutes(strings.NewReader("1 1 10.0.0.1 80\n"+strings.Repeat("x", MaxLineLen+1)+"\n"), "f")
	if !errors.Is(err, ErrBadRoutes) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("long line: err = %v", err)
	}
}

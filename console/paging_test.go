package console

import (
	"net/url"
	"testing"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOffsetPagerLinks(t *testing.T) {
	q := url.Values{"sort": {"hosts"}, "from": {"201"}, "empty": nil}
	p := offsetPager("services", "/", q, "from", 200, 100, 100, 350)
	if p.From != 201 || p.To != 300 || p.Prev != "/?from=101&sort=hosts" || p.Next != "/?from=301&sort=hosts" {
		t.Errorf("middle page: %+v", p)
	}
	p = offsetPager("hosts", "/service/1/1", url.Values{}, "from", 50, 10, 100, 60)
	if p.Prev != "/service/1/1" || p.Next != "" {
		t.Errorf("last page, less than a page in: %+v", p)
	}
}

// FuzzPageParams: any ?n= and ?from= is refused with an input error or gives a size
// within the bounds and an offset from 0.
func FuzzPageParams(f *testing.F) {
	for _, seed := range [][2]string{{"", ""}, {"100", "1"}, {"0", "0"}, {"1001", "-1"}, {"x", "9223372036854775808"}, {" 5 ", "1e3"}} {
		f.Add(seed[0], seed[1])
	}
	s := &Server{pageRows: DefaultPageRows, maxPageRows: DefaultMaxPageRows, metrics: newConsoleMetrics()}
	f.Fuzz(func(t *testing.T, n, from string) {
		q := url.Values{"n": {n}, "from": {from}}
		size, err := s.pageSize(q)
		if err == nil && (size < 1 || size > DefaultMaxPageRows) {
			t.Fatalf("n=%q: size %d", n, size)
		}
		if _, ok := err.(inputError); err != nil && !ok {
			t.Fatalf("n=%q: %T %v, want an input error", n, err, err)
		}
		offset, err := pageStart(q, "from")
		if err == nil && offset < 0 {
			t.Fatalf("from=%q: offset %d", from, offset)
		}
		if _, ok := err.(inputError); err != nil && !ok {
			t.Fatalf("from=%q: %T %v, want an input error", from, err, err)
		}
	})
}

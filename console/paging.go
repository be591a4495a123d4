package console

import (
	"net/url"
	"strconv"
	"strings"
)

// Page sizes of every list (Config.PageRows, Config.MaxPageRows): ?n= asks for
// another size, up to the most.
const (
	DefaultPageRows    = 100
	DefaultMaxPageRows = 1000
)

// pager is the position of one page in a list and the links to its neighbours.
type pager struct {
	What            string // what the list holds, plural: "services", "hosts", "changes"
	From, To, Total int    // 1-based positions of the first and last row shown; To < From when empty
	Prev, Next      string // URLs of the previous and next pages, "" at either end
}

// pageSize returns the page size ?n= asks for (s.pageRows without one), or an input
// error.
func (s *Server) pageSize(q url.Values) (int, error) {
	v := strings.TrimSpace(q.Get("n"))
	if v == "" {
		return s.pageRows, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > s.maxPageRows {
		s.metrics.cutIf(err == nil && n > s.maxPageRows, cutPageSize)
		return 0, inputErrorf("The page size %q is not a number from 1 to %d.", v, s.maxPageRows)
	}
	return n, nil
}

// pageStart returns the 0-based offset of the first row the 1-based position in param
// of q asks for (0 without one), or an input error.
func pageStart(q url.Values, param string) (int, error) {
	s := strings.TrimSpace(q.Get(param))
	if s == "" {
		return 0, nil
	}
	from, err := strconv.Atoi(s)
	if err != nil || from < 1 {
		return 0, inputErrorf("The page position %q is not a number from 1 up.", s)
	}
	return from - 1, nil
}

// offsetPager returns the pager of the rows offset..offset+shown-1 of total, its links
// the page path with q's parameters, param set to the neighbours' 1-based positions.
func offsetPager(what, path string, q url.Values, param string, offset, shown, size, total int) pager {
	p := pager{What: what, From: offset + 1, To: offset + shown, Total: total}
	link := func(from int) string {
		v := url.Values{}
		for k, vs := range q {
			if len(vs) > 0 {
				v[k] = vs
			}
		}
		v.Del(param)
		if from > 1 {
			v.Set(param, strconv.Itoa(from))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if offset > 0 {
		p.Prev = link(max(1, offset-size+1))
	}
	if offset+shown < total {
		p.Next = link(offset + shown + 1)
	}
	return p
}

// thousands formats n with commas between groups of three digits: 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

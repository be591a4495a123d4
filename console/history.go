package console

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/larsgo/lars/store"
)

// historyBody is the history page's data.
type historyBody struct {
	Entries      []store.HistoryEntry
	Modid, Cmdid string
	Now          time.Time
	Pager        pager
}

// historyPage lists route writes, newest first, of one modid or key if asked, a page
// at a time: ?before=ID shows the rows older than ID, ?after=ID those newer (keyset
// paging on the id, through the (modid, cmdid, id) index).
func (s *Server) historyPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	body := historyBody{Modid: q.Get("modid"), Cmdid: q.Get("cmdid"), Now: s.now()}
	bad := func(msg string) {
		s.render(w, r, http.StatusBadRequest, "history", page{Title: "Changes", Nav: "history", Error: msg, Body: body})
	}
	f := store.HistoryFilter{MaxHosts: historyCellHosts}
	var err error
	if f.Limit, err = s.pageSize(q); err != nil {
		bad(err.Error())
		return
	}
	if body.Modid != "" {
		id, err := parseID("modid", body.Modid)
		if err != nil {
			bad(err.Error())
			return
		}
		f.Modid = &id
	}
	if body.Cmdid != "" {
		id, err := parseID("cmdid", body.Cmdid)
		if err != nil {
			bad(err.Error())
			return
		}
		f.Cmdid = &id
	}
	for _, p := range []struct {
		name string
		dst  *uint64
	}{{"before", &f.BeforeID}, {"after", &f.AfterID}} {
		if b := q.Get(p.name); b != "" {
			v, err := strconv.ParseUint(b, 10, 64)
			if err != nil {
				bad("The page position " + strconv.Quote(b) + " is not a number.")
				return
			}
			*p.dst = v
		}
	}
	entries, err := s.db.History(r.Context(), f)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if len(entries) == 0 && (f.AfterID > 0 || f.BeforeID > 0) { // past either end: show the newest page
		f.AfterID, f.BeforeID = 0, 0
		if entries, err = s.db.History(r.Context(), f); err != nil {
			s.storeError(w, r, err)
			return
		}
	}
	var newestShown uint64
	if len(entries) > 0 {
		newestShown = entries[0].ID
	}
	total, newer, err := s.db.HistoryCount(r.Context(), f, newestShown)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	body.Entries = entries
	body.Pager = historyPager(body, f, f.Limit != s.pageRows, newer, total)
	s.metrics.cutIf(len(entries) < total, cutChanges)
	s.countHistoryCut(entries)
	s.render(w, r, http.StatusOK, "history", page{Title: "Changes", Nav: "history", Body: body})
}

// countHistoryCut counts the entries whose host lists were cut.
func (s *Server) countHistoryCut(entries []store.HistoryEntry) {
	for _, e := range entries {
		s.metrics.cutIf(e.BeforeCount > len(e.Before) || e.AfterCount > len(e.After), cutHistoryHost)
	}
}

// historyPager returns the pager of a history page showing body.Entries, newer rows
// newer than them of total; sized says the page size was asked for (its links keep it).
func historyPager(body historyBody, f store.HistoryFilter, sized bool, newer, total int) pager {
	p := pager{What: "changes", From: newer + 1, To: newer + len(body.Entries), Total: total}
	link := func(param string, id uint64) string {
		v := url.Values{param: {strconv.FormatUint(id, 10)}}
		if body.Modid != "" {
			v.Set("modid", body.Modid)
		}
		if body.Cmdid != "" {
			v.Set("cmdid", body.Cmdid)
		}
		if sized {
			v.Set("n", strconv.Itoa(f.Limit))
		}
		return "/history?" + v.Encode()
	}
	if n := len(body.Entries); n > 0 {
		if newer > 0 {
			p.Prev = link("after", body.Entries[0].ID)
		}
		if p.To < total {
			p.Next = link("before", body.Entries[n-1].ID)
		}
	}
	return p
}

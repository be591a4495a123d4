package console

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/larsgo/lars/store"
)

// historyPageRows is how many rows one history page shows.
const historyPageRows = 50

// historyBody is the history page's data.
type historyBody struct {
	Entries      []store.HistoryEntry
	Modid, Cmdid string
	Now          time.Time
	Older        string // URL of the next page, "" on the last
}

// historyPage lists route writes, newest first, of one modid or key if asked.
func (s *Server) historyPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	body := historyBody{Modid: q.Get("modid"), Cmdid: q.Get("cmdid"), Now: s.now()}
	f := store.HistoryFilter{Limit: historyPageRows}
	bad := func(msg string) {
		s.render(w, r, http.StatusBadRequest, "history", page{Title: "Changes", Nav: "history", Error: msg, Body: body})
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
	if b := q.Get("before"); b != "" {
		v, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			bad("The page position " + strconv.Quote(b) + " is not a number.")
			return
		}
		f.BeforeID = v
	}
	entries, err := s.db.History(r.Context(), f)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	body.Entries = entries
	if len(entries) == historyPageRows {
		v := url.Values{"before": {strconv.FormatUint(entries[len(entries)-1].ID, 10)}}
		if body.Modid != "" {
			v.Set("modid", body.Modid)
		}
		if body.Cmdid != "" {
			v.Set("cmdid", body.Cmdid)
		}
		body.Older = "/history?" + v.Encode()
	}
	s.render(w, r, http.StatusOK, "history", page{Title: "Changes", Nav: "history", Body: body})
}

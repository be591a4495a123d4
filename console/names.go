package console

import (
	"net/http"
	"net/url"
)

// nameRow is one service name.
type nameRow struct {
	Kind string // "modid" or "cmdid"
	ID   int32
	Name string
}

// namesBody is the names page's data: a page of each list.
type namesBody struct {
	Mods, Cmds         []nameRow
	ModPager, CmdPager pager
	// Form holds what the user typed into a form that failed.
	Form struct{ Kind, ID, Name string }
}

// namesPage lists the names of modids and cmdids with forms to add and edit them.
func (s *Server) namesPage(w http.ResponseWriter, r *http.Request) {
	s.renderNames(w, r, http.StatusOK, "")
}

// renderNames renders the names page with status and errMsg; ?modfrom= and ?cmdfrom=
// page the two lists (after a write, the first pages).
func (s *Server) renderNames(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	q := r.URL.Query()
	if r.Method != http.MethodGet {
		q = url.Values{}
	}
	var b namesBody
	size, err := s.pageSize(q)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, err.Error())
		return
	}
	for _, l := range []struct {
		kind, param string
		cmd         bool
		rows        *[]nameRow
		pager       *pager
	}{{"modid", "modfrom", false, &b.Mods, &b.ModPager}, {"cmdid", "cmdfrom", true, &b.Cmds, &b.CmdPager}} {
		offset, err := pageStart(q, l.param)
		if err != nil {
			s.errorPage(w, r, http.StatusBadRequest, err.Error())
			return
		}
		names, total, err := s.db.NamePage(r.Context(), l.cmd, offset, size)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		for _, n := range names {
			*l.rows = append(*l.rows, nameRow{l.kind, n.ID, n.Name})
		}
		*l.pager = offsetPager(l.kind+"s", "/names", q, l.param, offset, len(names), size, total)
		s.metrics.cutIf(len(names) < total, cutNames)
	}
	p := page{Title: "Service names", Nav: "names", Error: errMsg, Body: &b}
	if errMsg != "" {
		b.Form.Kind, b.Form.ID, b.Form.Name = r.PostFormValue("kind"), r.PostFormValue("id"), r.PostFormValue("name")
	} else {
		p.Flash = flash(r)
	}
	s.render(w, r, status, "names", p)
}

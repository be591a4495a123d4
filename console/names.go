package console

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
)

// nameRow is one service name.
type nameRow struct {
	Kind string // "modid" or "cmdid"
	ID   int32
	Name string
}

// namesBody is the names page's data.
type namesBody struct {
	Mods, Cmds []nameRow
	// Form holds what the user typed into a form that failed.
	Form struct{ Kind, ID, Name string }
}

// namesPage lists the names of modids and cmdids with forms to add and edit them.
func (s *Server) namesPage(w http.ResponseWriter, r *http.Request) {
	s.renderNames(w, r, http.StatusOK, "")
}

// renderNames renders the names page with status and errMsg.
func (s *Server) renderNames(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	names, err := s.db.ServiceNames(r.Context())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	var b namesBody
	for _, id := range slices.SortedFunc(maps.Keys(names.Mod), cmp.Compare) {
		b.Mods = append(b.Mods, nameRow{"modid", id, names.Mod[id]})
	}
	for _, id := range slices.SortedFunc(maps.Keys(names.Cmd), cmp.Compare) {
		b.Cmds = append(b.Cmds, nameRow{"cmdid", id, names.Cmd[id]})
	}
	p := page{Title: "Service names", Nav: "names", Error: errMsg, Body: &b}
	if errMsg != "" {
		b.Form.Kind, b.Form.ID, b.Form.Name = r.PostFormValue("kind"), r.PostFormValue("id"), r.PostFormValue("name")
	} else {
		p.Flash = flash(r)
	}
	s.render(w, r, status, "names", p)
}

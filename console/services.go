package console

import (
	"cmp"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/store"
)

// serviceRow is one line of the services page.
type serviceRow struct {
	Key              lb.Key
	ModName, CmdName string
	Hosts            int
	Overloaded       int // hosts of the route some caller's latest status says overloaded
	Succ, Err        uint64
	ErrorRate        float64
	LastChange       time.Time // zero if RouteHistory has no row for the key
	LastStatus       time.Time // zero without call status
}

// servicesBody is the services page's data.
type servicesBody struct {
	Rows   []serviceRow
	Modid  string // the filter as given
	Sort   string
	Desc   bool
	Sorts  []sortColumn
	Now    time.Time
	Totals struct{ Services, Hosts, Overloaded int }
}

// sortColumn is a column header that sorts the page.
type sortColumn struct {
	Name, Label string
	URL         string // the page sorted by this column (the other way if it is the current one)
	Current     bool
}

// sortOrders are the services page's sort orders by name; each compares two rows
// ascending, ties broken by key.
var sortOrders = map[string]func(a, b serviceRow) int{
	"key":        func(a, b serviceRow) int { return 0 },
	"name":       func(a, b serviceRow) int { return cmp.Compare(a.ModName+"\x00"+a.CmdName, b.ModName+"\x00"+b.CmdName) },
	"hosts":      func(a, b serviceRow) int { return cmp.Compare(a.Hosts, b.Hosts) },
	"overloaded": func(a, b serviceRow) int { return cmp.Compare(a.Overloaded, b.Overloaded) },
	"errors":     func(a, b serviceRow) int { return cmp.Compare(a.ErrorRate, b.ErrorRate) },
	"changed":    func(a, b serviceRow) int { return a.LastChange.Compare(b.LastChange) },
}

// sortLabels are the sortable columns in page order.
var sortLabels = [][2]string{{"key", "Service"}, {"name", "Name"}, {"hosts", "Hosts"},
	{"overloaded", "Overloaded"}, {"errors", "Error rate"}, {"changed", "Last change"}}

// servicesPage lists every key of the route store or of the call status.
func (s *Server) servicesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	body := servicesBody{Modid: strings.TrimSpace(q.Get("modid")), Sort: q.Get("sort"), Desc: q.Get("order") == "desc", Now: s.now()}
	if body.Sort == "" {
		body.Sort = "key"
	}
	less, ok := sortOrders[body.Sort]
	if !ok {
		s.errorPage(w, r, http.StatusBadRequest, "Unknown sort order "+body.Sort+": sort by key, name, hosts, overloaded, errors or changed.")
		return
	}
	var filter *int32
	if body.Modid != "" {
		id, err := parseID("modid", body.Modid)
		if err != nil {
			s.render(w, r, http.StatusBadRequest, "services", page{Title: "Services", Nav: "services", Error: err.Error(), Body: body})
			return
		}
		filter = &id
	}
	rows, err := s.serviceRows(r, filter)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	slices.SortStableFunc(rows, func(a, b serviceRow) int {
		c := less(a, b)
		if body.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(a.Key.Pack(), b.Key.Pack())
	})
	body.Rows = rows
	for _, row := range rows {
		body.Totals.Services++
		body.Totals.Hosts += row.Hosts
		body.Totals.Overloaded += row.Overloaded
	}
	for _, c := range sortLabels {
		v := url.Values{"sort": {c[0]}}
		if body.Modid != "" {
			v.Set("modid", body.Modid)
		}
		current := c[0] == body.Sort
		if current && !body.Desc {
			v.Set("order", "desc")
		}
		body.Sorts = append(body.Sorts, sortColumn{Name: c[0], Label: c[1], URL: "/?" + v.Encode(), Current: current})
	}
	s.render(w, r, http.StatusOK, "services", page{Title: "Services", Nav: "services", Flash: flash(r), Body: body})
}

// serviceRows reads the rows of the services page: every key with hosts or call
// status, of modid *filter only when filter is set.
func (s *Server) serviceRows(r *http.Request, filter *int32) ([]serviceRow, error) {
	ctx := r.Context()
	routes, err := s.db.AllRoutes(ctx)
	if err != nil {
		return nil, err
	}
	statuses, err := s.db.CallStatus(ctx, store.CallStatusFilter{Modid: filter})
	if err != nil {
		return nil, err
	}
	names, err := s.db.ServiceNames(ctx)
	if err != nil {
		return nil, err
	}
	last, err := s.db.LastChanges(ctx)
	if err != nil {
		return nil, err
	}
	byKey := make(map[lb.Key][]store.CallStatus)
	for _, st := range statuses {
		byKey[st.Key] = append(byKey[st.Key], st)
	}
	keys := make(map[lb.Key]bool)
	for k := range routes {
		keys[k] = true
	}
	for k := range byKey {
		keys[k] = true
	}
	var rows []serviceRow
	for _, k := range slices.SortedFunc(maps.Keys(keys), func(a, b lb.Key) int { return cmp.Compare(a.Pack(), b.Pack()) }) {
		if filter != nil && k.Modid != *filter {
			continue
		}
		row := serviceRow{Key: k, ModName: names.Mod[k.Modid], CmdName: names.Cmd[k.Cmdid], Hosts: len(routes[k]), LastChange: last[k]}
		for _, hs := range hostStatuses(routes[k], byKey[k]) {
			if hs.InRoute && hs.Overload {
				row.Overloaded++
			}
			row.Succ += hs.Succ
			row.Err += hs.Err
			for _, c := range hs.Callers {
				if c.At.After(row.LastStatus) {
					row.LastStatus = c.At
				}
			}
		}
		row.ErrorRate = rate(row.Succ, row.Err)
		rows = append(rows, row)
	}
	return rows, nil
}

package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticRoot embed.FS

// staticFS serves the embedded static files under /static/.
var staticFS fs.FS = staticRoot

// pageNames are the templates in templates/ that are whole pages (each parsed with
// layout.html and the shared history_table.html and pager.html).
var pageNames = []string{"services", "service", "history", "names", "login", "error", "accounts"}

// templateFuncs are the helpers the templates use.
var templateFuncs = template.FuncMap{
	"key":       func(k route.Key) string { return fmt.Sprintf("%d/%d", k.Modid, k.Cmdid) },
	"host":      route.Host.String,
	"hosts":     route.FormatHostList,
	"percent":   percent,
	"age":       age,
	"time":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"lines":     func(h []route.Host) string { return strings.ReplaceAll(route.FormatHostList(h), " ", "\n") },
	"thousands": thousands,
	"minus":     func(a, b int) int { return a - b },
	"plus":      func(a, b int) int { return a + b },
	"leaseLeft": leaseLeft,
	"weight":    weightText,
}

// weightText is the host table's weight cell: the host's weight, or "default (100)"
// when it names none.
func weightText(h route.Host) string {
	if h.Weight == 0 {
		return fmt.Sprintf("default (%d)", route.DefaultWeight)
	}
	return fmt.Sprint(h.Weight)
}

// leaseLeft prints what a registered host's lease has left, to the second.
func leaseLeft(d time.Duration) string {
	if d < 0 {
		return "ended"
	}
	return d.Truncate(time.Second).String() + " left"
}

// parsePages parses every page with the layout.
func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/history_table.html", "templates/pager.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: cannot parse page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// page is what layout.html renders around a page's content.
type page struct {
	Title string
	// Nav is the name of the navigation entry to mark current.
	Nav string
	// Flash says what the last write did; Error what was wrong with a request.
	Flash, Error string
	// User and Role name the logged-in account ("" when none); Writer is true when it
	// may change routes, Admin when it manages the accounts.
	User, Role    string
	Writer, Admin bool
	// Body is the page's own data.
	Body any
}

// render writes the page name with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if id, ok := identityOf(r); ok {
		p.User, p.Role, p.Writer, p.Admin = id.name, string(id.role), id.role.CanWrite(), id.role == store.RoleAdmin
	}
	var buf bytes.Buffer
	if err := s.pages[name].Execute(&buf, p); err != nil {
		s.log.Error("cannot render a console page", "page", name, "err", err)
		http.Error(w, "the page cannot be shown (see the console's log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage renders the error page with status and a message for the user.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", page{Title: http.StatusText(status), Error: msg})
}

// storeError logs err, a route store error, in full and renders a page that says the
// database failed in one generic line: the driver's words (table and column names,
// addresses, SQL) are for the operator's log, not for every browser.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("route store error", "path", r.URL.Path, "err", err)
	s.metrics.storeErrors.Inc()
	s.errorPage(w, r, http.StatusServiceUnavailable, "The route store (database) failed; the console's log has the error. Nothing was changed unless the page says so; try again when the database is back.")
}

// filesOnly serves files through h and answers 404 for a directory (a path ending in
// a slash), so that no directory is listed.
func filesOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// percent formats a fraction as a percentage with one decimal.
func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// age formats how long ago t was, at most two units ("3m 20s"), "-" for the zero time;
// up to a minute in the future counts as now.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	switch {
	case d < -time.Minute:
		return "in the future"
	case d < 0: // clocks of other machines (agents) are a little off
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours())/24)
}

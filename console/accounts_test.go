package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/larsgo/lars/store"
)

// TestAccountsPage: an admin adds, re-roles, re-passwords and deletes accounts on the
// page; a change ends the account's sessions; an editor may not see or use it; an
// admin cannot demote or delete themselves.
func TestAccountsPage(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/lars.db", "")
	admin := f.cookie
	if code, body := f.get("/accounts"); code != http.StatusOK || !strings.Contains(body, `data-account="tester"`) {
		t.Fatalf("the accounts page: %d\n%s", code, body)
	}
	if rec := f.post("/accounts/add", url.Values{"name": {"ed"}, "role": {"editor"}, "password": {"ed-password-0123"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("add ed: %d\n%s", rec.Code, rec.Body.String())
	}
	for _, bad := range []url.Values{
		{"name": {"ed"}, "role": {"editor"}, "password": {"ed-password-0123"}},
		{"name": {"x y"}, "role": {"editor"}, "password": {"xy-password-0123"}},
		{"name": {"short"}, "role": {"editor"}, "password": {"short"}},
		{"name": {"root"}, "role": {"root"}, "password": {"root-password-0123"}},
	} {
		if rec := f.post("/accounts/add", bad); rec.Code != http.StatusBadRequest {
			t.Errorf("add %v: %d", bad, rec.Code)
		}
	}
	ed := f.login("ed", "ed-password-0123")
	f.cookie = ed
	if code, _ := f.get("/accounts"); code != http.StatusForbidden {
		t.Errorf("an editor's accounts page: %d, want 403", code)
	}
	if rec := f.post("/accounts/add", url.Values{"name": {"eve"}, "role": {"admin"}, "password": {"eve-password-0123"}}); rec.Code != http.StatusForbidden {
		t.Errorf("an editor adding an admin: %d, want 403", rec.Code)
	}
	f.cookie = admin
	if rec := f.post("/accounts/change", url.Values{"op": {"role"}, "name": {"ed"}, "role": {"viewer"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("ed to viewer: %d\n%s", rec.Code, rec.Body.String())
	}
	f.wantRefused("ed's session after a role change", ed, http.StatusUnauthorized)
	f.cookie = f.login("ed", "ed-password-0123")
	f.wantRefused("ed as a viewer", f.cookie, http.StatusForbidden)
	f.cookie = admin
	if rec := f.post("/accounts/change", url.Values{"op": {"passwd"}, "name": {"ed"}, "password": {"ed-password-4567"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("ed's password: %d", rec.Code)
	}
	f.login("ed", "ed-password-4567")
	for _, self := range []url.Values{{"op": {"role"}, "name": {testAccount}, "role": {"viewer"}}, {"op": {"delete"}, "name": {testAccount}}} {
		if rec := f.post("/accounts/change", self); rec.Code != http.StatusBadRequest {
			t.Errorf("%v on oneself: %d, want 400", self, rec.Code)
		}
	}
	if rec := f.post("/accounts/change", url.Values{"op": {"delete"}, "name": {"ed"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete ed: %d", rec.Code)
	}
	if _, err := f.db.Account(f.ctx(), "ed"); err == nil {
		t.Error("ed still there")
	}
	if a, _ := f.db.Account(f.ctx(), testAccount); a.Role != store.RoleAdmin {
		t.Errorf("tester's role %s", a.Role)
	}
}

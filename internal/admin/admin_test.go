package admin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

func TestMux(t *testing.T) {
	healthy := true
	h := Mux(Handlers{
		Metrics: func(w io.Writer) { io.WriteString(w, "lars_test_up 1\n") },
		Health:  func() (bool, string) { return healthy, map[bool]string{true: "ok", false: "loading"}[healthy] },
		Routes:  func() any { return []int{1, 2} },
	})
	if code, body := get(t, h, "/metrics"); code != 200 || !strings.HasPrefix(body, "lars_test_up 1\n") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics: %d %q...", code, body[:min(len(body), 80)])
	}
	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz healthy: %d %q", code, body)
	}
	healthy = false
	if code, body := get(t, h, "/healthz"); code != 503 || body != "loading\n" {
		t.Fatalf("/healthz unhealthy: %d %q", code, body)
	}
	if code, body := get(t, h, "/routes"); code != 200 || strings.Join(strings.Fields(body), "") != "[1,2]" {
		t.Fatalf("/routes: %d %q", code, body)
	}
	if code, _ := get(t, h, "/debug/pprof/"); code != 200 {
		t.Fatalf("/debug/pprof/: %d", code)
	}
	// Without handlers: healthz says ok, the others are not served.
	bare := Mux(Handlers{})
	if code, body := get(t, bare, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("bare /healthz: %d %q", code, body)
	}
	if code, _ := get(t, bare, "/routes"); code != 404 {
		t.Fatalf("bare /routes: %d, want 404", code)
	}
}

func TestStartAndShutdown(t *testing.T) {
	s, err := Start("127.0.0.1:0", Mux(Handlers{}), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + s.Addr().String() + "/healthz"); err == nil {
		t.Fatal("still serving after Shutdown")
	}
	if _, err := Start(s.Addr().String()+"0", Mux(Handlers{}), nil, Options{}); err == nil {
		t.Fatal("Start on a bad address succeeded")
	}
}

func TestBool(t *testing.T) {
	if Bool(true) != 1 || Bool(false) != 0 {
		t.Fatal("Bool")
	}
}

package storetest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// EnvMySQLCtl names the environment variable holding the path of a script that takes
// "stop" and "start" and stops or starts the server EnvMySQLDSN names
// (scripts/mariadb.sh; `scripts/mariadb.sh env` prints it). Outage tests need it.
const EnvMySQLCtl = "LARS_TEST_MYSQL_CTL"

// EnvMySQLOutage names the environment variable that allows outage tests: they stop
// the shared server, so they run only where nothing else uses it at the same time
// (make test-outage sets it and runs them alone, after make test-race).
const EnvMySQLOutage = "LARS_TEST_MYSQL_OUTAGE"

// ctlTimeout bounds one stop or start of the server.
const ctlTimeout = 150 * time.Second

// StopMySQL stops the test server (EnvMySQLCtl stop) and arranges for it to be started
// again when t ends, so later tests find it running. It skips t when EnvMySQLDSN or
// EnvMySQLCtl is unset, or EnvMySQLOutage is not 1 (see RequireOutage).
func StopMySQL(t testing.TB) {
	t.Helper()
	script := ctlScript(t)
	t.Cleanup(func() { runCtl(t, script, "start") })
	runCtl(t, script, "stop")
}

// StartMySQL starts the test server (EnvMySQLCtl start) and returns once it answers;
// it does nothing if the server runs. It skips t as StopMySQL does.
func StartMySQL(t testing.TB) {
	t.Helper()
	runCtl(t, ctlScript(t), "start")
}

// RequireOutage skips t unless the test may stop and start the MariaDB/MySQL server:
// EnvMySQLDSN and EnvMySQLCtl set, and EnvMySQLOutage=1. Call it first in an outage
// test; StopMySQL and StartMySQL call it too.
func RequireOutage(t testing.TB) {
	t.Helper()
	ctlScript(t)
}

// ctlScript returns the control script or skips t.
func ctlScript(t testing.TB) string {
	t.Helper()
	if os.Getenv(EnvMySQLOutage) != "1" {
		t.Skip(EnvMySQLOutage + " is not 1: this test stops the shared MariaDB/MySQL server, " +
			"so it runs alone, in make test-outage")
	}
	if os.Getenv(EnvMySQLDSN) == "" {
		t.Skip(EnvMySQLDSN + " not set: no MariaDB/MySQL server to stop and start")
	}
	script := os.Getenv(EnvMySQLCtl)
	if script == "" {
		t.Skip(EnvMySQLCtl + " not set: no script to stop and start the MariaDB/MySQL server " +
			"(scripts/mariadb.sh env prints it)")
	}
	return script
}

// runCtl runs "script action" and fails t if it fails.
func runCtl(t testing.TB, script, action string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ctlTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, script, action).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", script, action, err, out)
	}
}

package admin

import (
	"strings"

	"github.com/larsgo/lars/store"
)

// redacted replaces a secret flag's value in RedactArgs.
const redacted = "xxxxx"

// RedactArgs returns a copy of a command line with its secrets hidden: the value of a
// flag whose name holds "token", "password" or "secret" (but not a "-file" flag, whose
// value is a path) replaced by "xxxxx", and every other argument passed through
// store.Redact, which hides a DSN's password (-db user:pass@... shows user:xxxxx@...).
func RedactArgs(args []string) []string {
	out := make([]string, len(args))
	secretNext := false
	for i, a := range args {
		switch {
		case secretNext:
			out[i], secretNext = redacted, false
		case strings.HasPrefix(a, "-"):
			name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			secret := isSecretFlag(name)
			switch {
			case hasValue && secret:
				out[i] = a[:len(a)-len(value)] + redacted
			case hasValue:
				out[i] = a[:len(a)-len(value)] + store.Redact(value)
			default:
				out[i], secretNext = a, secret
			}
		default:
			out[i] = store.Redact(a)
		}
	}
	return out
}

// isSecretFlag reports whether the flag called name takes a secret as its value.
func isSecretFlag(name string) bool {
	name = strings.ToLower(name)
	if strings.HasSuffix(name, "-file") {
		return false
	}
	return strings.Contains(name, "token") || strings.Contains(name, "password") || strings.Contains(name, "secret")
}

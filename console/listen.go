package console

import (
	"fmt"
)

// EnvToken names the environment variable lars-console reads its API token from when
// -token is not given.
const EnvToken = "LARS_CONSOLE_TOKEN"

// CheckToken returns an error when token is set but shorter than MinTokenLen. Every
// request needs a login (or the token) wherever the console listens, so no address
// needs a token.
func CheckToken(token string) error {
	if token != "" && len(token) < MinTokenLen {
		return fmt.Errorf("the API token (-token or %s) has %d characters: give at least %d", EnvToken, len(token), MinTokenLen)
	}
	return nil
}

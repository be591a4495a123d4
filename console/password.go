package console

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password bounds: bcrypt reads at most 72 bytes.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 72
)

// DefaultHashCost is the bcrypt cost of new password hashes (about 50 ms a check).
const DefaultHashCost = 11

// CheckPassword returns an error unless pw is an acceptable new password: valid
// UTF-8 of MinPasswordLen to MaxPasswordLen bytes.
func CheckPassword(pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > MaxPasswordLen || !utf8.ValidString(pw) {
		return fmt.Errorf("a password has %d to %d bytes of UTF-8", MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// HashPassword returns pw's bcrypt hash at cost (DefaultHashCost if 0), after
// CheckPassword.
func HashPassword(pw string, cost int) (string, error) {
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	if cost == 0 {
		cost = DefaultHashCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	return string(h), err
}

// PasswordMatches reports whether pw is the password hash was made from.
func PasswordMatches(hash, pw string) bool {
	if len(pw) > MaxPasswordLen {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// dummyHash is checked against when the account does not exist, so that a wrong
// name takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such account here"), DefaultHashCost)
	return string(h)
})

// RandomPassword returns a new random password of 32 characters (192 bits).
func RandomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", errors.New("no randomness for a password: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

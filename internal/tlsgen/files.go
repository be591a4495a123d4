package tlsgen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileMode is the mode of every file written: its owner's alone.
const FileMode fs.FileMode = 0o600

// ErrExists is returned, wrapped, when a file to write exists and is not to be
// overwritten.
var ErrExists = errors.New("exists")

// CertFiles returns the names of the certificate and key files of the holder called
// name with role role: ROLE-NAME.pem and ROLE-NAME-key.pem.
func CertFiles(role Role, name string) (cert, key string) {
	base := string(role) + "-" + name
	return base + ".pem", base + "-key.pem"
}

// WritePair writes p's certificate to certPath and its key to keyPath, each with mode
// FileMode whatever the umask. Unless force is set, it writes neither when either
// exists (ErrExists); with force it replaces them, each at once. The directory of
// each is created, mode 0700, if missing.
func WritePair(p Pair, certPath, keyPath string, force bool) error {
	if !force {
		for _, path := range []string{certPath, keyPath} {
			if _, err := os.Lstat(path); err == nil {
				return fmt.Errorf("%s %w (-force overwrites it)", path, ErrExists)
			}
		}
	}
	if err := writeFile(keyPath, p.KeyPEM, force); err != nil {
		return err
	}
	if err := writeFile(certPath, p.CertPEM, force); err != nil {
		if !force {
			os.Remove(keyPath) // written just now: no key without its certificate
		}
		return err
	}
	return nil
}

// writeFile writes data to path with mode FileMode. Unless force is set it fails
// with ErrExists when path exists; with force it replaces path by renaming a new
// file over it, so that a reader never sees half a file.
func writeFile(path string, data []byte, force bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !force {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s %w (-force overwrites it)", path, ErrExists)
		}
		if err != nil {
			return err
		}
		if err := fill(f, data); err != nil {
			os.Remove(path)
			return err
		}
		return nil
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if err := fill(f, data); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// fill sets f's mode to FileMode (the umask may have taken bits away), writes data,
// syncs and closes f.
func fill(f *os.File, data []byte) error {
	err := f.Chmod(FileMode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

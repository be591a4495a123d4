package store

import "io/fs"

// The modes a new SQLite route store is created with, whatever the umask: routes and
// call status are for the services and their operators alone, not every local user.
// SQLite gives its -wal and -shm files the database file's mode. An existing file
// keeps the mode it has.
const (
	// PrivateFileMode is the default: the owner alone reads and writes.
	PrivateFileMode fs.FileMode = 0o600
	// GroupFileMode lets the file's group read too (GroupReadable), e.g. for a backup
	// or monitoring account in the service's group.
	GroupFileMode fs.FileMode = 0o640
)

// Option changes how Open opens a store.
type Option func(*openOptions)

// openOptions are what the Options set.
type openOptions struct {
	fileMode fs.FileMode
}

// GroupReadable, when on, creates a missing SQLite file with GroupFileMode instead of
// PrivateFileMode. It changes nothing on MySQL or for an existing file.
func GroupReadable(on bool) Option {
	return func(o *openOptions) {
		if on {
			o.fileMode = GroupFileMode
		}
	}
}

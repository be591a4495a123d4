// Package docs holds the project's documentation, one page per reader (docs/README.md
// is the index). It has no code: its test checks that every shell command of the
// README's tour and of these pages names a make target, a binary, a subcommand, a flag,
// a package or a file that exists in the tree, so that a command runs as written.
package docs

// Package doclinks holds only a test: every relative link in the README,
// docs/*.md, infra/README.md and CHANGELOG.md resolves to a file of this
// repository (or a heading of the linked file), so a reader following a
// link on GitHub or in a clone never lands on nothing.
package doclinks

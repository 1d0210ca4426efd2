// Package pwa is the crew's tablet app: plain HTML, CSS and ES modules,
// embedded in the binary and served by the bus.
//
// FS holds the app with index.html at its root. The shell (index.html, sw.js,
// manifest.webmanifest) has stable names and must be served with
// Cache-Control: no-cache; every other file is also reachable under
// v/{Version}/ and is requested only there, so those URLs may be cached for a
// year as immutable: a binary with other app files has another Version, hence
// other URLs and another service worker cache.
package pwa

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed app
var embedded embed.FS

// versionMark is replaced by Version in the files listed in stamped.
const versionMark = "__INFOBUS_VERSION__"

// stamped are the files that name the version: the page (for its asset
// URLs) and the service worker (whose bytes must change for browsers to
// install a new one).
var stamped = []string{"index.html", "sw.js"}

// VersionPrefix is the folder every versioned asset URL starts with.
const VersionPrefix = "v/"

var (
	// FS is the app, rooted at its folder: index.html, sw.js, app.js, ….
	FS fs.FS

	version string
)

func init() {
	root, err := fs.Sub(embedded, "app")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	version = hashFiles(root)
	FS = newVersionedFS(root, version)
}

// Version identifies this build of the app: the first 12 hex digits of a
// hash over every app file's name and content.
func Version() string { return version }

// IsVersioned reports whether a request path (with or without its leading
// slash) names a versioned asset, which may be cached as immutable.
func IsVersioned(p string) bool {
	return strings.HasPrefix(strings.TrimPrefix(p, "/"), VersionPrefix+version+"/")
}

func hashFiles(root fs.FS) string {
	var names []string
	err := fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, name)
		}
		return err
	})
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		b, err := fs.ReadFile(root, name)
		if err != nil {
			panic(err)
		}
		io.WriteString(h, name)
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// versionedFS serves the embedded files with the version stamped into the
// shell, and every file also under v/{version}/.
type versionedFS struct {
	root    fs.FS
	version string
	stamped map[string][]byte
}

func newVersionedFS(root fs.FS, version string) *versionedFS {
	v := &versionedFS{root: root, version: version, stamped: map[string][]byte{}}
	for _, name := range stamped {
		b, err := fs.ReadFile(root, name)
		if err != nil {
			panic(err)
		}
		v.stamped[name] = bytes.ReplaceAll(b, []byte(versionMark), []byte(version))
	}
	return v
}

func (v *versionedFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if rest, ok := strings.CutPrefix(name, VersionPrefix+v.version+"/"); ok {
		name = rest
	} else if strings.HasPrefix(name, VersionPrefix) || name+"/" == VersionPrefix {
		// Other versions are gone: an old URL must not get new content
		// cached under it for a year.
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if b, ok := v.stamped[name]; ok {
		return &memFile{Reader: bytes.NewReader(b), info: memInfo{name: path.Base(name), size: int64(len(b))}}, nil
	}
	f, err := v.root.Open(name)
	if err != nil {
		return nil, err
	}
	if d, ok := f.(fs.ReadDirFile); ok && name == "." {
		return &rootDir{ReadDirFile: d, fs: v}, nil
	}
	return f, nil
}

// memFile is a stamped file: its content lives in memory.
type memFile struct {
	*bytes.Reader
	info memInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// rootDir lists the root folder with the stamped files' real sizes.
type rootDir struct {
	fs.ReadDirFile
	fs *versionedFS
}

func (d *rootDir) ReadDir(n int) ([]fs.DirEntry, error) {
	entries, err := d.ReadDirFile.ReadDir(n)
	for i, e := range entries {
		if b, ok := d.fs.stamped[e.Name()]; ok {
			entries[i] = fs.FileInfoToDirEntry(memInfo{name: e.Name(), size: int64(len(b))})
		}
	}
	return entries, err
}

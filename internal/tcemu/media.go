package tcemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Media serves recordings and transcripts at signed links, as CCC's media
// host does, so that the links a DescribeSessionDetail answer carries lead
// to known bytes: Relink points a detail's links at it.
type Media struct {
	// Base is where the server is reached ("http://127.0.0.1:port").
	Base string

	mu     sync.Mutex
	files  map[string]mediaFile
	refuse int
	hits   int
}

type mediaFile struct {
	body []byte
	// size is the length of a generated file (body nil).
	size        int64
	contentType string
}

// NewMedia returns a media server to be reached at base.
func NewMedia(base string) *Media {
	return &Media{Base: strings.TrimSuffix(base, "/"), files: map[string]mediaFile{}}
}

// mediaSign is the signature every link carries; a link without it is
// refused with 403, as a tampered one is.
const mediaSign = "c2lnbmVkLW1lZGlhLWxpbms"

// Add serves body at name and returns its signed link.
func (m *Media) Add(name string, body []byte, contentType string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files["/media/"+name] = mediaFile{body: body, contentType: contentType}
	return m.link(name)
}

// AddGenerated serves size bytes of Generated at name, made on the fly.
func (m *Media) AddGenerated(name string, size int64, contentType string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files["/media/"+name] = mediaFile{size: size, contentType: contentType}
	return m.link(name)
}

func (m *Media) link(name string) string { return m.Base + "/media/" + name + "?sign=" + mediaSign }

// Refuse makes the next n fetches answer 403, as a link past its 24 hours
// is answered.
func (m *Media) Refuse(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refuse = n
}

// Hits counts the fetches served or refused.
func (m *Media) Hits() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits
}

func (m *Media) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.hits++
	f, ok := m.files[r.URL.Path]
	refused := m.refuse > 0 || r.URL.Query().Get("sign") != mediaSign
	if m.refuse > 0 {
		m.refuse--
	}
	m.mu.Unlock()
	switch {
	case r.Method != http.MethodGet:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	case refused:
		http.Error(w, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", http.StatusForbidden)
		return
	case !ok:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	if f.body != nil {
		w.Header().Set("Content-Length", strconv.Itoa(len(f.body)))
		w.Write(f.body)
		return
	}
	w.Header().Set("Content-Length", strconv.FormatInt(f.size, 10))
	io.Copy(w, Generated(f.size))
}

// Generated returns n bytes that are the same for every call, made as they
// are read: a large recording without holding it.
func Generated(n int64) io.Reader { return io.LimitReader(&pattern{}, n) }

// pattern repeats a 4 KiB block whose bytes depend on the block's number,
// so that misplaced blocks change the hash.
type pattern struct {
	block []byte
	n     uint64
	off   int
}

func (p *pattern) Read(b []byte) (int, error) {
	total := 0
	for len(b) > 0 {
		if p.off == len(p.block) {
			p.block = bytes.Repeat([]byte(fmt.Sprintf("block %016x ", p.n)), 4096/23+1)[:4096]
			p.n++
			p.off = 0
		}
		c := copy(b, p.block[p.off:])
		p.off += c
		total += c
		b = b[c:]
	}
	return total, nil
}

// MediaFile is one file Relink made, by the detail member it stands in.
type MediaFile struct {
	// Member names the link's place: "RecordURL", "AsrURL",
	// "ServeParticipants[0].RecordURL", "VoicemailRecordURL[0]".
	Member string
	Link   string
	Body   []byte
}

// Relink returns detail (a DescribeSessionDetail Response object) with its
// RecordURL, AsrURL, voicemail and participants' links pointing at m, each
// serving known bytes, and the files it made. Empty links stay empty.
// Unless keepCustom, the CustomRecordURL members are emptied, as when CCC
// copies nothing to the customer's COS.
func (m *Media) Relink(session string, detail json.RawMessage, keepCustom bool) (json.RawMessage, []MediaFile, error) {
	var d map[string]any
	dec := json.NewDecoder(bytes.NewReader(detail))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return nil, nil, fmt.Errorf("relink: %w", err)
	}
	var files []MediaFile
	relink := func(member string, old any, ext string) any {
		if s, _ := old.(string); s == "" {
			return old
		}
		name := session + "/" + strings.NewReplacer("[", "-", "]", "", ".", "-").Replace(member) + "." + ext
		body := []byte(fmt.Sprintf("%s of session %s\n", member, session))
		ct := "audio/mpeg"
		if ext == "txt" {
			ct = "text/plain; charset=utf-8"
			body = []byte(fmt.Sprintf("[00:00:01] agent: Hello, this is %s.\n[00:00:04] customer: 你好\n", session))
		} else {
			body = bytes.Repeat(body, 64)
		}
		link := m.Add(name, body, ct)
		files = append(files, MediaFile{Member: member, Link: link, Body: body})
		return link
	}
	d["RecordURL"] = relink("RecordURL", d["RecordURL"], "mp3")
	d["AsrURL"] = relink("AsrURL", d["AsrURL"], "txt")
	for _, member := range []string{"VoicemailRecordURL", "VoicemailAsrURL"} {
		list, _ := d[member].([]any)
		for i := range list {
			ext := "mp3"
			if member == "VoicemailAsrURL" {
				ext = "txt"
			}
			list[i] = relink(fmt.Sprintf("%s[%d]", member, i), list[i], ext)
		}
	}
	if !keepCustom && d["CustomRecordURL"] != nil {
		d["CustomRecordURL"] = ""
	}
	parts, _ := d["ServeParticipants"].([]any)
	for i, p := range parts {
		if sp, ok := p.(map[string]any); ok {
			sp["RecordURL"] = relink(fmt.Sprintf("ServeParticipants[%d].RecordURL", i), sp["RecordURL"], "mp3")
			if !keepCustom && sp["CustomRecordURL"] != nil {
				sp["CustomRecordURL"] = ""
			}
		}
	}
	out, err := json.Marshal(d)
	if err != nil {
		return nil, nil, fmt.Errorf("relink: %w", err)
	}
	return out, files, nil
}

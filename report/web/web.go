// Package web serves the operators' page of `etlhost ui` and `etlhost
// worker --ui`: per job, its recent runs from the run history (status,
// start, duration, rows), a chart of their durations, its failure rate and
// its last error; and River's own UI under /riverui/ for the queue.
//
// The page is read-only and served as one HTML document (inline CSS and
// SVG, no script), so it works from a terminal's browser and through a
// strict proxy. It has no login: bind it to localhost, or put it behind
// the proxy that authenticates the team's other tools.
package web

import (
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	store "github.com/etlhost/etlhost/internal/history"
)

// RiverPrefix is where River's UI is mounted.
const RiverPrefix = "/riverui"

// Options tune the page.
type Options struct {
	// Runs is how many recent runs the page shows per job (default 20).
	Runs int
	// Location is the time zone of the times shown (default UTC).
	Location *time.Location
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Refresh reloads the page every so often (default 30s; negative: never).
	Refresh time.Duration
}

// queryTimeout bounds each page's talk with the history database.
const queryTimeout = 10 * time.Second

// New returns the handler of the page: / (the jobs), /healthz, and River's
// UI under /riverui/ when river is not nil.
func New(hist *store.Store, river http.Handler, opts Options) http.Handler {
	if opts.Runs <= 0 {
		opts.Runs = 20
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Refresh == 0 {
		opts.Refresh = 30 * time.Second
	}
	p := &page{hist: hist, opts: opts, river: river != nil}
	mux := http.NewServeMux()
	mux.Handle("/", readOnly(p))
	mux.Handle("/healthz", readOnly(http.HandlerFunc(p.health)))
	if river != nil {
		mux.Handle(RiverPrefix+"/", river)
		mux.Handle(RiverPrefix, http.RedirectHandler(RiverPrefix+"/", http.StatusMovedPermanently))
	}
	return mux
}

// RiverUI returns River's UI for client, started (its background services
// stop when ctx ends), to mount with New.
func RiverUI(ctx context.Context, client *river.Client[pgx.Tx], logger *slog.Logger) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    logger,
		Prefix:    RiverPrefix,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot build River's UI: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("cannot start River's UI: %w", err)
	}
	return h, nil
}

// readOnly refuses what is not GET or HEAD: the page changes nothing.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "this page is read-only: GET or HEAD only", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

type page struct {
	hist  *store.Store
	opts  Options
	river bool
}

func (p *page) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := p.hist.Ping(ctx); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	view, err := p.load(ctx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Nothing on the page is fetched or run: a job's name or error that
	// slipped past the escaping still could not load or run anything.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	var b strings.Builder
	if err := pageTemplate.Execute(&b, view); err != nil {
		http.Error(w, "cannot write the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte(b.String()))
}

// view is what the template shows.
type view struct {
	Generated string
	Refresh   int // seconds; 0: no refresh
	River     string
	Jobs      []job
	Failing   int
}

type job struct {
	Name        string
	Path        string
	LastStatus  string
	LastRun     string
	LastSuccess string
	LastRows    string // rows of the last ok run; "" when it returned none
	Failures    int
	Runs        int
	FailureRate string
	AvgOK       string
	MaxOK       string
	LastError   *failure
	Chart       chart
	Recent      []run
}

type failure struct {
	When, Status, Text string
}

type run struct {
	Started  string
	Status   string
	Duration string
	Rows     string
	Attempts int
}

// chart is an SVG bar chart of the durations, oldest on the left.
type chart struct {
	Width, Height int
	Bars          []bar
	Max           string
}

type bar struct {
	X, Y, W, H int
	Status     string
	Title      string
}

const (
	chartHeight = 60
	barWidth    = 14
	barGap      = 3
)

func (p *page) load(ctx context.Context) (*view, error) {
	q := store.Query{Last: p.opts.Runs}
	stats, err := p.hist.Scripts(ctx, q)
	if err != nil {
		return nil, err
	}
	recent, err := p.hist.Recent(ctx, q)
	if err != nil {
		return nil, err
	}
	v := &view{Generated: p.stamp(p.opts.Now())}
	if p.opts.Refresh > 0 {
		v.Refresh = max(1, int(p.opts.Refresh.Seconds()))
	}
	if p.river {
		v.River = RiverPrefix + "/"
	}
	for _, st := range stats {
		j := p.job(st, recent[st.Name])
		if j.LastStatus != "ok" {
			v.Failing++
		}
		v.Jobs = append(v.Jobs, j)
	}
	// Jobs that fail now come first: they are why someone opened the page.
	slices.SortStableFunc(v.Jobs, func(a, b job) int {
		return boolOrder(a.LastStatus == "ok") - boolOrder(b.LastStatus == "ok")
	})
	return v, nil
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (p *page) job(st store.ScriptStats, recent []store.ScriptRun) job {
	j := job{
		Name:        st.Name,
		LastStatus:  st.LastStatus,
		LastRun:     p.stamp(st.LastRun),
		LastSuccess: "never",
		Failures:    st.Failures,
		Runs:        st.Runs,
		FailureRate: fmt.Sprintf("%.0f%%", st.FailureRate*100),
	}
	if st.Runs > st.Failures {
		j.AvgOK, j.MaxOK = duration(st.AvgOK), duration(st.MaxOK)
	}
	if st.LastSuccess != nil {
		j.LastSuccess = p.stamp(*st.LastSuccess)
	}
	if len(recent) > 0 {
		j.Path = recent[0].Path
	}
	for _, sr := range recent {
		if sr.Status == "ok" {
			if sr.Rows != nil {
				j.LastRows = fmt.Sprint(*sr.Rows)
			}
			break
		}
	}
	for _, sr := range recent {
		if sr.Status != "ok" && sr.Error != "" {
			j.LastError = &failure{When: p.stamp(sr.StartedAt), Status: sr.Status, Text: sr.Error}
			break
		}
	}
	for _, sr := range recent {
		r := run{Started: p.stamp(sr.StartedAt), Status: sr.Status, Duration: duration(sr.Duration), Attempts: sr.Attempts}
		if sr.Rows != nil {
			r.Rows = fmt.Sprint(*sr.Rows)
		}
		j.Recent = append(j.Recent, r)
	}
	j.Chart = p.chart(recent)
	return j
}

func (p *page) chart(recent []store.ScriptRun) chart {
	c := chart{Height: chartHeight, Width: max(1, len(recent)*(barWidth+barGap))}
	var longest time.Duration
	for _, sr := range recent {
		longest = max(longest, sr.Duration)
	}
	c.Max = duration(longest)
	for i := range recent {
		sr := recent[len(recent)-1-i] // oldest first
		h := chartHeight
		if longest > 0 {
			h = int(float64(chartHeight-2) * float64(sr.Duration) / float64(longest))
		}
		h = max(h, 2) // a run of no time still shows
		c.Bars = append(c.Bars, bar{
			X: i * (barWidth + barGap), Y: chartHeight - h, W: barWidth, H: h,
			Status: sr.Status,
			Title:  fmt.Sprintf("%s: %s in %s", p.stamp(sr.StartedAt), sr.Status, duration(sr.Duration)),
		})
	}
	return c
}

func (p *page) stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.opts.Location).Format("2006-01-02 15:04:05 MST")
}

// duration writes d as the text views do: to the tenth of a second, or
// the millisecond under one.
func duration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

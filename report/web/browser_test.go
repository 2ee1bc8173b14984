package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/queue"
)

// chromium renders url in Debian's headless chromium and returns the DOM
// it ends with, after JavaScript ran for up to budget of virtual time.
// With screenshot set it also saves a picture of the page there.
func chromium(t *testing.T, url string, budget time.Duration, screenshot string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser tests need Debian's chromium (apt-get install chromium; .ci/run installs it)")
	}
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-extensions", "--disable-quic",
		"--user-data-dir=" + t.TempDir(),
		"--virtual-time-budget=" + strconv.FormatInt(budget.Milliseconds(), 10),
	}
	if screenshot != "" {
		args = append(args, "--window-size=1280,1400", "--screenshot="+screenshot)
	} else {
		args = append(args, "--dump-dom")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return string(out)
}

// screenshotPath is where a test keeps its picture of a page, to look at
// after the run: $ETLHOST_SCREENSHOT_DIR, else etlhost-screenshots in the
// system's temporary directory (kept: `go test -v` logs the path).
func screenshotPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("ETLHOST_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "etlhost-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

func TestPageInABrowser(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	s := openStore(t, dsn)
	nightly(t, s)
	srv := httptest.NewServer(riverUI(t, dsn, s))
	defer srv.Close()

	dom := chromium(t, srv.URL+"/", time.Second, "")
	for _, want := range []string{
		`data-job="achat" data-status="failed"`, `<span class="badge failed">failed</span>`,
		`data-job="vente" data-status="ok"`, `<span class="badge ok">ok</span>`,
		"&lt;script&gt;alert", "access denied", "33% (1 of 3)",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q:\n%s", want, dom)
		}
	}
	// Each job's chart has a bar per run, coloured by its status: achat's
	// two ok nights, then the failed one.
	charts := regexp.MustCompile(`(?s)<svg class="duration-chart".*?</svg>`).FindAllString(dom, -1)
	bars := regexp.MustCompile(`<rect class="bar (\w+)"`)
	var got []string
	for _, c := range charts {
		var statuses []string
		for _, m := range bars.FindAllStringSubmatch(c, -1) {
			statuses = append(statuses, m[1])
		}
		got = append(got, strings.Join(statuses, " "))
	}
	if want := []string{"ok ok failed", "ok ok ok"}; !slices.Equal(got, want) {
		t.Errorf("the charts' bars: %q, want %q", got, want)
	}
	// The error's markup stayed text: the browser built no element of it.
	if strings.Contains(dom, `<script>alert`) {
		t.Errorf("the job's error became markup in the browser:\n%s", dom)
	}
	if strings.Index(dom, `data-job="achat"`) > strings.Index(dom, `data-job="vente"`) {
		t.Errorf("the failing job is not listed first")
	}

	shot := screenshotPath(t, "etlhost-page.png")
	chromium(t, srv.URL+"/", time.Second, shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Errorf("no picture of the page (%v)", err)
	}
	t.Logf("the page as Chromium drew it: %s", shot)
}

func TestRiverUIInABrowser(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	s := openStore(t, dsn)
	srv := httptest.NewServer(riverUI(t, dsn, s))
	defer srv.Close()
	q, err := queue.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	_, err = q.Enqueue(context.Background(), &queue.Batch{Scripts: []queue.Script{
		{Name: "achat_import", Path: "scripts/achat_import.lua", Source: []byte("return {rows = 1}")},
	}})
	if err != nil {
		t.Fatal(err)
	}

	// River's UI is a single-page application: its root element is empty
	// until its JavaScript ran and asked its API for the queue.
	page := srv.URL + "/riverui/jobs?state=available"
	dom := chromium(t, page, 10*time.Second, "")
	root := dom[strings.Index(dom, `id="root"`)+1:]
	if !strings.Contains(root, "<") || strings.HasPrefix(strings.TrimLeft(root[strings.Index(root, ">")+1:], " \n"), "</div>") {
		t.Fatalf("River's UI did not render in the browser:\n%s", dom)
	}
	for _, want := range []string{queue.KindRun, `"job":"achat_import"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("River's UI does not show the enqueued job (%q):\n%s", want, dom)
		}
	}
	shot := screenshotPath(t, "etlhost-riverui.png")
	chromium(t, page, 10*time.Second, shot)
	t.Logf("River's UI as Chromium drew it: %s", shot)
}

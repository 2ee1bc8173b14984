package queue

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJobs writes jobs as `etlhost jobs` shows them: one line each, the
// newest first.
func WriteJobs(w io.Writer, jobs []Listed, loc *time.Location) {
	if len(jobs) == 0 {
		fmt.Fprintln(w, "No jobs in the queue.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tJOB\tSTATE\tSTATUS\tATTEMPT\tCREATED\tFINISHED\tORIGIN\tERROR")
	for _, j := range jobs {
		name := j.Job
		if j.Kind == KindTick {
			name += " (tick)"
		}
		finished := "-"
		if j.FinalizedAt != nil {
			finished = j.FinalizedAt.In(loc).Format("2006-01-02 15:04:05")
		}
		status := j.Status
		if status == "" {
			status = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", j.ID, oneLine(name, 40), j.State, status, j.Attempt,
			j.CreatedAt.In(loc).Format("2006-01-02 15:04:05"), finished, oneLine(j.Origin, 30), oneLine(j.Error, 80))
	}
	tw.Flush()
}

// WriteEnqueued says what an enqueue did, one line per script.
func WriteEnqueued(w io.Writer, out []Enqueued) {
	for _, e := range out {
		switch e.State {
		case "enqueued":
			fmt.Fprintf(w, "enqueued  %s  (job %d)\n", e.Name, e.ID)
		case "waiting":
			fmt.Fprintf(w, "waiting   %s  (enqueued when the jobs it runs after end ok; batch %d)\n", e.Name, e.Batch)
		case "duplicate":
			if e.ID > 0 {
				fmt.Fprintf(w, "skipped   %s  (job %d of that name is pending or running: not enqueued twice)\n", e.Name, e.ID)
			} else {
				fmt.Fprintf(w, "skipped   %s  (already waiting in another batch: not enqueued twice)\n", e.Name)
			}
		}
	}
}

// WriteNextRuns writes the coming ticks of each schedule.
func WriteNextRuns(w io.Writer, runs []NextRun, loc *time.Location) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "No script given has a schedule (a header line such as --! schedule = 0 2 * * *).")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "JOB\tSCHEDULE\tNEXT RUNS (%s)\n", loc)
	for _, r := range runs {
		var at []string
		for _, t := range r.At {
			at = append(at, t.In(loc).Format("Mon 2006-01-02 15:04:05"))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Job, r.Schedule, strings.Join(at, ", "))
	}
	tw.Flush()
}

// oneLine is s on one line of at most n characters, with no control
// characters (a job's error comes from a script).
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

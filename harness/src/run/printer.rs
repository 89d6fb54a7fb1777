//! The trial lines of a run, as libtest prints them (`test NAME ... ok`), with one word of
//! provcheck's own: a planned skip (capability missing, not applicable, no key, no recording,
//! over budget) reads `skipped (reason)`, and `ignored` stays for scenarios marked `ignore`.
//! libtest-mimic prints `ignored` for every trial that did not run, so in its default (pretty)
//! format on stdout the run prints the lines itself; the other formats (`--format json|terse`,
//! `-q`, `--logfile`) are libtest-mimic's, unchanged.

use std::io::Write;
use std::sync::{Mutex, mpsc};
use std::time::Instant;

use crate::outcome::Spent;
use console::Style;
use libtest_mimic::{
    Arguments, ColorSetting, Completion, Conclusion, Failed, FormatSetting, Trial,
};

/// How a trial ended, in the words of its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `ok`.
    Pass,
    /// `FAILED`, with the text printed under `failures:`.
    Fail(String),
    /// `skipped (reason)`: not run, for a reason the plan or the run found.
    Skip(String),
    /// `ignored (reason)`: the scenario is marked `ignore`.
    Ignored(String),
}

/// What a finished trial reports to the printer: its verdict, and what it spent at the
/// providers (for the progress line).
pub(crate) type Finished = (Verdict, Option<Spent>);

/// One trial to run: its name, and what runs it (or, for one that is not run, its verdict).
pub(crate) struct Job {
    /// `suite::scenario::target`.
    pub name: String,
    /// Runs the trial; `Err` when it is ignored and its verdict is already known.
    pub run: Result<Box<dyn FnOnce() -> Finished + Send>, Verdict>,
}

/// Whether the run prints its own lines: libtest's pretty format to stdout.
pub(crate) fn prints_own_lines(args: &Arguments) -> bool {
    !args.quiet
        && args.logfile.is_none()
        && matches!(args.format, None | Some(FormatSetting::Pretty))
}

/// The line's verdict text (uncoloured): `ok`, `FAILED`, `skipped (…)`, `ignored (…)`.
pub(crate) fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Pass => "ok".into(),
        Verdict::Fail(_) => "FAILED".into(),
        Verdict::Skip(why) => format!("skipped ({})", first_line(why)),
        Verdict::Ignored(why) if why.is_empty() => "ignored".into(),
        Verdict::Ignored(why) => format!("ignored ({})", first_line(why)),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// One trial's line, `test NAME ... VERDICT`, the name padded to `width`.
pub(crate) fn line(name: &str, width: usize, v: &Verdict, color: bool) -> String {
    let style = match v {
        Verdict::Pass => Style::new().green(),
        Verdict::Fail(_) => Style::new().red(),
        Verdict::Skip(_) | Verdict::Ignored(_) => Style::new().yellow(),
    }
    .force_styling(color);
    format!(
        "test {name:<width$} ... {}",
        style.apply_to(verdict_text(v))
    )
}

/// The closing line, libtest's with the skips counted apart from the ignored trials.
pub(crate) fn summary_line(c: &Conclusion, skipped: u64, secs: f64, color: bool) -> String {
    let (word, style) = if c.num_failed > 0 {
        ("FAILED", Style::new().red())
    } else {
        ("ok", Style::new().green())
    };
    format!(
        "test result: {}. {} passed; {} failed; {} ignored; {skipped} skipped; {} measured; {} filtered out; finished in {secs:.2}s",
        style.force_styling(color).apply_to(word),
        c.num_passed,
        c.num_failed,
        c.num_ignored - skipped,
        c.num_measured,
        c.num_filtered_out,
    )
}

/// Runs the jobs: with libtest-mimic in its other formats, else on `--test-threads` workers,
/// printing each line as its trial finishes, with the progress line under them when
/// `progress` (a live or record run on a terminal, see [`super::progress::wanted`]).
pub(crate) fn run(args: &Arguments, jobs: Vec<Job>, progress: bool) -> Conclusion {
    if !prints_own_lines(args) {
        return libtest_mimic::run(args, jobs.into_iter().map(into_trial).collect());
    }
    let color = match args.color {
        Some(ColorSetting::Always) => true,
        Some(ColorSetting::Never) => false,
        _ => console::colors_enabled(),
    };
    let start = Instant::now();
    let width = jobs
        .iter()
        .map(|j| j.name.chars().count())
        .max()
        .unwrap_or(0);
    let n = jobs.len();
    println!("\nrunning {n} test{}", if n == 1 { "" } else { "s" });
    let display = progress.then(super::progress::Display::stdout);
    let mut tally = super::progress::Tally {
        total: n,
        ..Default::default()
    };
    if let Some(d) = &display {
        d.draw(&tally, start.elapsed());
    }
    let mut c = Conclusion {
        num_filtered_out: 0,
        num_passed: 0,
        num_failed: 0,
        num_ignored: 0,
        num_measured: 0,
    };
    let (mut skipped, mut failures) = (0u64, Vec::new());
    execute(args, jobs, |name, (v, spent)| {
        let text = line(&name, width, &v, color);
        tally.add(matches!(v, Verdict::Fail(_)), spent);
        match &display {
            Some(d) => d.line(&text, &tally, start.elapsed()),
            None => println!("{text}"),
        }
        match v {
            Verdict::Pass => c.num_passed += 1,
            Verdict::Fail(msg) => {
                c.num_failed += 1;
                failures.push((name, msg));
            }
            Verdict::Skip(_) => {
                c.num_ignored += 1;
                skipped += 1;
            }
            Verdict::Ignored(_) => c.num_ignored += 1,
        }
    });
    if let Some(d) = &display {
        d.finish();
    }
    let mut out = std::io::stdout().lock();
    if !failures.is_empty() {
        let _ = writeln!(out, "\nfailures:\n");
        for (name, msg) in &failures {
            let _ = writeln!(out, "---- {name} ----\n{msg}\n");
        }
        let _ = writeln!(out, "\nfailures:");
        for (name, _) in &failures {
            let _ = writeln!(out, "    {name}");
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = writeln!(out, "\n{}\n", summary_line(&c, skipped, secs, color));
    c
}

/// Runs the jobs on the run's worker threads and hands each one's result to `done`, on this
/// thread, as soon as it finishes: a long run's lines appear as it goes.
fn execute(args: &Arguments, jobs: Vec<Job>, mut done: impl FnMut(String, Finished)) {
    let threads = args
        .test_threads
        .or_else(|| std::thread::available_parallelism().ok().map(Into::into))
        .unwrap_or(1)
        .max(1);
    let n = jobs.len();
    let queue = Mutex::new(jobs.into_iter());
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(n) {
            let tx = tx.clone();
            let queue = &queue;
            scope.spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some(job) = next else { break };
                    let finished = match job.run {
                        Ok(run) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
                            .unwrap_or_else(|_| (Verdict::Fail("the trial panicked".into()), None)),
                        Err(v) => (v, None),
                    };
                    if tx.send((job.name, finished)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (name, finished) in rx {
            done(name, finished);
        }
    });
}

/// A job as libtest-mimic's trial, for the formats libtest-mimic prints.
fn into_trial(job: Job) -> Trial {
    match job.run {
        Ok(run) => Trial::ignorable_test(job.name, move || match run().0 {
            Verdict::Pass => Ok(Completion::Completed),
            Verdict::Fail(msg) => Err(Failed::from(msg)),
            Verdict::Skip(why) | Verdict::Ignored(why) => Ok(Completion::ignored_with(why)),
        }),
        Err(_) => Trial::test(job.name, || Ok(())).with_ignored_flag(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planned_skips_read_skipped_and_only_marked_scenarios_read_ignored() {
        let w = 12;
        assert_eq!(
            line("s::a::openai", w, &Verdict::Pass, false),
            "test s::a::openai ... ok"
        );
        assert_eq!(
            line(
                "s::b::x",
                w,
                &Verdict::Skip("not applicable: no `n`\nmore".into()),
                false
            ),
            "test s::b::x      ... skipped (not applicable: no `n`)"
        );
        assert_eq!(
            line(
                "s::c::x",
                w,
                &Verdict::Ignored("ignored: takes minutes".into()),
                false
            ),
            "test s::c::x      ... ignored (ignored: takes minutes)"
        );
        assert_eq!(
            line("s::d::x", w, &Verdict::Fail("why".into()), false),
            "test s::d::x      ... FAILED"
        );
        assert!(line("s::d::x", w, &Verdict::Fail("why".into()), true).contains("\u{1b}[31m"));
    }

    #[test]
    fn the_summary_counts_skips_apart_from_ignored_trials() {
        let c = Conclusion {
            num_filtered_out: 2,
            num_passed: 5,
            num_failed: 1,
            num_ignored: 4,
            num_measured: 0,
        };
        assert_eq!(
            summary_line(&c, 3, 1.234, false),
            "test result: FAILED. 5 passed; 1 failed; 1 ignored; 3 skipped; 0 measured; 2 filtered out; finished in 1.23s"
        );
    }

    #[test]
    fn other_formats_stay_libtests() {
        let parse = |a: &[&str]| {
            Arguments::from_iter(std::iter::once("provcheck").chain(a.iter().copied()))
        };
        assert!(prints_own_lines(&parse(&[])));
        assert!(!prints_own_lines(&parse(&[
            "--format",
            "json",
            "-Z",
            "unstable-options"
        ])));
        assert!(!prints_own_lines(&parse(&["-q"])));
        assert!(!prints_own_lines(&parse(&["--logfile", "x"])));
    }
}

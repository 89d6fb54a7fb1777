//! The audit's account of scenarios that do not apply: where an API does not define the
//! behaviour (a scenario's `not_applicable`, or a dialect `dialects:` leaves out), each cell
//! with its reason. Such a cell is no gap: nothing is missing there.

use std::fmt::Write;

use crate::outcome::{Outcome, SkipKind, Status};
use crate::report::coverage::{Cell, Matrix, skip_kind};
use crate::report::markdown::{cell, code, escape, table};

/// Why a cell does not apply to its target's dialect, if that is what it holds: the reason of
/// a trial skipped as not applicable, or of a pair the run had no trial for.
pub(super) fn reason<'c>(c: &'c Cell<'_>) -> Option<&'c str> {
    match c {
        Cell::OtherDialect(reason) => Some(reason),
        Cell::Ran(o) => dialect_reason(o),
        Cell::NotRun => None,
    }
}

/// The reason of a trial skipped because its dialect's API does not define the behaviour.
pub(super) fn dialect_reason(o: &Outcome) -> Option<&str> {
    (skip_kind(o) == Some(SkipKind::NotApplicable))
        .then(|| o.skip.as_ref().map(|s| s.detail.as_str()))
        .flatten()
}

/// How many scenario × target cells do not apply to their target's dialect.
pub(super) fn count(m: &Matrix<'_>) -> usize {
    m.categories
        .values()
        .flatten()
        .flat_map(|row| &row.cells)
        .filter(|c| reason(c).is_some())
        .count()
}

/// Trials the target itself declares out (a capability or model it lacks, a check that is
/// not for a gateway or client), apart from the dialect's.
pub(super) fn declared_out(outcomes: &[Outcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| o.status == Status::Skip)
        .filter(|o| skip_kind(o).is_some_and(SkipKind::not_declared))
        .filter(|o| dialect_reason(o).is_none())
        .count()
}

/// The section: one row per scenario and reason, with the targets it does not apply to, in
/// the matrix's order. Nothing when every scenario applies everywhere.
pub(super) fn section(out: &mut String, m: &Matrix<'_>) {
    let mut rows: Vec<(String, String, Vec<&str>)> = Vec::new();
    for row in m.categories.values().flatten() {
        for (c, target) in row.cells.iter().zip(&m.targets) {
            let Some(why) = reason(c) else { continue };
            let scenario = format!(
                "{} {}",
                code(&row.scenario.id),
                cell(&row.scenario.title, 80)
            );
            match rows.iter_mut().find(|(s, w, _)| *s == scenario && w == why) {
                Some((_, _, targets)) => targets.push(target),
                None => rows.push((scenario, why.to_string(), vec![target])),
            }
        }
    }
    if rows.is_empty() {
        return;
    }
    out.push_str("## Not applicable\n\n");
    let _ = writeln!(
        out,
        "Where the API of a target's dialect does not define the behaviour, the scenario is \
         skipped there with the reason. These cells are not gaps.\n"
    );
    let body: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(scenario, why, targets)| {
            vec![scenario, escape(&targets.join(", ")), cell(&why, 200)]
        })
        .collect();
    out.push_str(&table(&["scenario", "targets", "reason"], &[], &body));
    out.push('\n');
}

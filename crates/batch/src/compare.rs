//! `safetynet compare`: registry households (JSON Lines) against department feeds, one
//! warning per line out (JSON), bad feed rows on standard error.
//!
//! Shape: the registry is read in blocks of whole lines, each block split over the cores, and
//! indexed by `watch::Registry`; each feed is then read the same way and every record goes
//! through `watch::compare_record`. The calling thread keeps the dedupe set and writes. Memory
//! is the index plus a few blocks, whatever the size of the feeds. GB18030 files are decoded
//! whole (they are office exports, not the ten-million-row kind).

use crate::assess::{AssessArgs, load_snapshot, read_household};
use anyhow::Context;
use chrono::NaiveDate;
use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use watch::{
    Columns, FeedRecord, Findings, Registry, Rejection, Thresholds, Warning, compare_record,
    duplicate_warnings, extra_houses,
};

/// Arguments of `safetynet compare`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CompareArgs {
    /// Registry households as JSON Lines (`spec/HOUSEHOLD.md`)
    #[arg(long, value_name = "H.jsonl")]
    pub households: PathBuf,
    /// A department feed (`spec/FEEDS.md`): .csv (UTF-8 or GB18030), .jsonl, .xlsx (repeatable)
    #[arg(long, value_name = "FILE", required = true)]
    pub feed: Vec<PathBuf>,
    /// 比对基准日: the parameters in force and the categories on that day [default: today]
    #[arg(long = "as-of", value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// A parameter catalogue (TOML) instead of the built-in `policy/catalogue.toml`
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Overrides a parameter for this run, e.g. `--set comparison.medical_large_yuan=20000`
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Prints how long each phase took on standard error
    #[arg(long)]
    pub timings: bool,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompareSummary {
    pub households: u64,
    pub persons: u64,
    pub records: u64,
    pub rejected: u64,
    pub warnings: u64,
    /// Rules that did not fire for lack of a configured value: `rule (parameter)`.
    pub skipped: Vec<String>,
}

const BLOCK_BYTES: usize = 16 << 20;

/// Runs `compare` as the command line asks. `Ok(false)` when a row was rejected.
pub fn run_compare(args: &CompareArgs) -> anyhow::Result<bool> {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let summary = compare_to(args, stdout.lock(), stderr.lock())?;
    Ok(summary.rejected == 0)
}

#[derive(Default)]
struct Clock {
    registry: Duration,
    feeds: Duration,
    output: Duration,
}

/// `run_compare` writing warnings to `output` and rejected rows to `errors`.
pub fn compare_to<W: Write, E: Write>(
    args: &CompareArgs,
    mut output: W,
    mut errors: E,
) -> anyhow::Result<CompareSummary> {
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let snapshot = load_snapshot(
        &AssessArgs {
            as_of: Some(as_of),
            policy: args.policy.clone(),
            set: args.set.clone(),
            ..AssessArgs::default()
        },
        as_of,
    )?;
    let thresholds = Thresholds::new(&snapshot);
    let mut clock = Clock::default();
    let mut summary = CompareSummary::default();
    for (rule, param) in thresholds.skipped() {
        summary
            .skipped
            .push(format!("{} ({})", rule.code(), param.name()));
        writeln!(
            errors,
            "规则 {} 未执行：参数 {} 未配置数值",
            rule.code(),
            param.name()
        )?;
    }

    let started = Instant::now();
    let (registry, bad_households) = load_registry(&args.households, &snapshot, &mut errors)
        .with_context(|| format!("read {}", args.households.display()))?;
    clock.registry = started.elapsed();
    summary.households = registry.household_count() as u64;
    summary.persons = registry.person_count() as u64;
    summary.rejected += bad_households;

    let feed_names: Vec<String> = args
        .feed
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    let mut seen: HashSet<(watch::IdKey, watch::Rule, u64)> = HashSet::new();
    let mut out = Vec::with_capacity(1 << 20);
    let mut houses = Vec::new();
    let mut emit = |warnings: &[Warning], out: &mut Vec<u8>, summary: &mut CompareSummary| {
        for warning in warnings {
            if seen.insert(warning.dedupe_key()) {
                warning.write_json(&registry, &thresholds, &feed_names, out);
                summary.warnings += 1;
            }
        }
    };
    emit(&duplicate_warnings(&registry), &mut out, &mut summary);
    for (feed_index, path) in args.feed.iter().enumerate() {
        let feed = u32::try_from(feed_index).unwrap_or(u32::MAX);
        let started = Instant::now();
        let mut on_block = |findings: Findings, rejections: Vec<Rejection>, records: u64| {
            summary.records += records;
            let written = Instant::now();
            emit(&findings.warnings, &mut out, &mut summary);
            houses.extend(findings.houses);
            for rejection in &rejections {
                let _ = writeln!(
                    errors,
                    "{}:{}: {}",
                    path.display(),
                    rejection.line,
                    rejection.reason
                );
            }
            summary.rejected += rejections.len() as u64;
            let result = if out.len() > (1 << 20) {
                let result = output.write_all(&out);
                out.clear();
                result
            } else {
                Ok(())
            };
            clock.output += written.elapsed();
            result
        };
        read_feed(path, feed, &registry, &thresholds, &mut on_block)
            .with_context(|| format!("read {}", path.display()))?;
        clock.feeds += started.elapsed();
    }
    let mut warnings = extra_houses(&mut houses, &registry, &thresholds);
    warnings.sort_by_key(|warning| (warning.feed, warning.line));
    emit(&warnings, &mut out, &mut summary);
    output.write_all(&out)?;
    output.flush()?;
    if args.timings {
        writeln!(
            errors,
            "compare: households={} persons={} records={} rejected={} warnings={} registry={:.2}s feeds={:.2}s (of which dedupe+write {:.2}s)",
            summary.households,
            summary.persons,
            summary.records,
            summary.rejected,
            summary.warnings,
            clock.registry.as_secs_f64(),
            clock.feeds.as_secs_f64(),
            clock.output.as_secs_f64(),
        )?;
    }
    Ok(summary)
}

/// Reads `input` in blocks of whole lines and calls `visit(block, first_line)` for each.
fn for_each_block<R: Read>(
    mut input: R,
    mut visit: impl FnMut(&[u8], u64) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut buffer = vec![0u8; BLOCK_BYTES];
    let mut filled = 0;
    let mut next_line = 1;
    loop {
        if filled == buffer.len() {
            buffer.resize(buffer.len() * 2, 0);
        }
        let read = match input.read(&mut buffer[filled..]) {
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        filled += read;
        let at_end = read == 0;
        if !at_end && filled < buffer.len() {
            continue;
        }
        let cut = if at_end {
            filled
        } else {
            match memchr::memrchr(b'\n', &buffer[..filled]) {
                Some(last) => last + 1,
                None => continue,
            }
        };
        if cut > 0 {
            visit(&buffer[..cut], next_line)?;
            next_line += memchr::memchr_iter(b'\n', &buffer[..cut]).count() as u64;
            buffer.copy_within(cut..filled, 0);
            filled -= cut;
        }
        if at_end {
            return Ok(());
        }
    }
}

/// Splits a block into `parts` pieces of whole lines, with each piece's first line number.
fn split_lines(block: &[u8], first_line: u64, parts: usize) -> Vec<(&[u8], u64)> {
    let mut pieces = Vec::with_capacity(parts);
    let mut start = 0;
    let mut line = first_line;
    for part in 1..=parts {
        let target = block.len() * part / parts;
        let end = if part == parts || target <= start {
            if part == parts { block.len() } else { start }
        } else {
            memchr::memchr(b'\n', &block[target..]).map_or(block.len(), |at| target + at + 1)
        };
        let end = end.max(start);
        pieces.push((&block[start..end], line));
        line += memchr::memchr_iter(b'\n', &block[start..end]).count() as u64;
        start = end;
    }
    pieces
}

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs `work` over the pieces of a block on scoped threads, results in piece order.
fn in_parallel<T: Send>(
    block: &[u8],
    first_line: u64,
    work: impl Fn(&[u8], u64) -> T + Sync,
) -> Vec<T> {
    let pieces = split_lines(block, first_line, workers());
    std::thread::scope(|scope| {
        let handles: Vec<_> = pieces
            .iter()
            .skip(1)
            .map(|(piece, line)| scope.spawn(|| work(piece, *line)))
            .collect();
        let mut results = Vec::with_capacity(pieces.len());
        if let Some((piece, line)) = pieces.first() {
            results.push(work(piece, *line));
        }
        for handle in handles {
            match handle.join() {
                Ok(result) => results.push(result),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
}

fn lines(piece: &[u8], first_line: u64) -> impl Iterator<Item = (&[u8], u64)> {
    piece
        .split(|&b| b == b'\n')
        .zip(first_line..)
        .filter(|(line, _)| !line.is_empty() && *line != b"\r")
}

fn load_registry<E: Write>(
    path: &Path,
    snapshot: &policy::Snapshot,
    errors: &mut E,
) -> anyhow::Result<(Registry, u64)> {
    let file = std::fs::File::open(path)?;
    let estimate = file.metadata().map_or(0, |meta| meta.len() as usize / 600);
    let mut registry = Registry::with_capacity(estimate, estimate * 3);
    let mut bad = 0;
    for_each_block(file, |block, first_line| {
        let results = in_parallel(block, first_line, |piece, line| {
            lines(piece, line)
                .map(|(text, line_no)| {
                    read_household(text)
                        .map(|household| watch::summarise(&household, snapshot))
                        .map_err(|reason| (line_no, reason))
                })
                .collect::<Vec<_>>()
        });
        for result in results.into_iter().flatten() {
            match result {
                Ok(summary) => registry.add(summary),
                Err((line_no, reason)) => {
                    bad += 1;
                    writeln!(errors, "{}:{line_no}: {reason}", path.display())?;
                }
            }
        }
        Ok(())
    })?;
    Ok((registry, bad))
}

fn compare_piece(
    piece: &[u8],
    first_line: u64,
    format: Format,
    columns: &Columns,
    feed: u32,
    registry: &Registry,
    thresholds: &Thresholds,
) -> (Findings, Vec<Rejection>, u64) {
    let mut findings = Findings::default();
    let mut rejections = Vec::new();
    let mut records = 0;
    for (bytes, line_no) in lines(piece, first_line) {
        records += 1;
        let Ok(text) = std::str::from_utf8(bytes) else {
            rejections.push(Rejection {
                line: line_no,
                reason: "该行不是有效的 UTF-8 文本".to_owned(),
            });
            continue;
        };
        let mut visit = |record: &FeedRecord<'_>| {
            compare_record(record, feed, registry, thresholds, &mut findings);
        };
        let result = match format {
            Format::Csv => columns
                .parse_line(text, line_no)
                .map(|record| visit(&record)),
            Format::JsonLines => watch::feed::parse_json_line(text, line_no, visit),
        };
        if let Err(rejection) = result {
            rejections.push(rejection);
        }
    }
    (findings, rejections, records)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    JsonLines,
}

type OnBlock<'a> = dyn FnMut(Findings, Vec<Rejection>, u64) -> io::Result<()> + 'a;

fn read_feed(
    path: &Path,
    feed: u32,
    registry: &Registry,
    thresholds: &Thresholds,
    on_block: &mut OnBlock<'_>,
) -> anyhow::Result<()> {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let format = match extension.as_str() {
        "csv" => Format::Csv,
        "jsonl" | "ndjson" | "json" => Format::JsonLines,
        "xlsx" => anyhow::bail!("XLSX 暂不支持：请另存为 CSV（UTF-8 或 GB18030）"),
        other => anyhow::bail!("不认识的文件类型“.{other}”（应为 .csv、.jsonl 或 .xlsx）"),
    };
    let mut file = std::fs::File::open(path)?;
    let mut head = vec![0u8; 64 << 10];
    let mut filled = 0;
    while filled < head.len() {
        let read = file.read(&mut head[filled..])?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    head.truncate(filled);
    // A GB18030 file is decoded whole; a UTF-8 one is streamed.
    let valid_utf8 = match std::str::from_utf8(&head) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none() && filled == 64 << 10,
    };
    if !valid_utf8 {
        let mut bytes = head;
        file.read_to_end(&mut bytes)?;
        let text = watch::decode(&bytes)?;
        return compare_text(
            text.as_bytes(),
            format,
            feed,
            registry,
            thresholds,
            on_block,
        );
    }
    let input = io::Cursor::new(head).chain(file);
    match format {
        Format::Csv => {
            let mut columns = None;
            for_each_block(input, |block, first_line| {
                let (block, first_line) = match &columns {
                    Some(_) => (block, first_line),
                    None => {
                        let end = memchr::memchr(b'\n', block).map_or(block.len(), |at| at + 1);
                        let header = std::str::from_utf8(&block[..end])
                            .map_err(|_| anyhow::anyhow!("表头不是有效的 UTF-8 文本"))?;
                        columns = Some(Columns::from_header(header)?);
                        (&block[end..], first_line + 1)
                    }
                };
                let Some(columns) = &columns else {
                    return Ok(());
                };
                compare_block(
                    block, first_line, format, columns, feed, registry, thresholds, on_block,
                )
            })
        }
        Format::JsonLines => {
            let columns = Columns::from_header("id_number,name,kind,value,date,detail")?;
            for_each_block(input, |block, first_line| {
                compare_block(
                    block, first_line, format, &columns, feed, registry, thresholds, on_block,
                )
            })
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn compare_block(
    block: &[u8],
    first_line: u64,
    format: Format,
    columns: &Columns,
    feed: u32,
    registry: &Registry,
    thresholds: &Thresholds,
    on_block: &mut OnBlock<'_>,
) -> anyhow::Result<()> {
    let results = in_parallel(block, first_line, |piece, line| {
        compare_piece(piece, line, format, columns, feed, registry, thresholds)
    });
    for (findings, rejections, records) in results {
        on_block(findings, rejections, records)?;
    }
    Ok(())
}

fn compare_text(
    text: &[u8],
    format: Format,
    feed: u32,
    registry: &Registry,
    thresholds: &Thresholds,
    on_block: &mut OnBlock<'_>,
) -> anyhow::Result<()> {
    let (columns, body, first_line) = match format {
        Format::Csv => {
            let end = memchr::memchr(b'\n', text).map_or(text.len(), |at| at + 1);
            let header = std::str::from_utf8(&text[..end])?;
            (Columns::from_header(header)?, &text[end..], 2)
        }
        Format::JsonLines => (
            Columns::from_header("id_number,name,kind,value,date,detail")?,
            text,
            1,
        ),
    };
    compare_block(
        body, first_line, format, &columns, feed, registry, thresholds, on_block,
    )
}

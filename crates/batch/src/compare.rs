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
use std::hash::BuildHasherDefault;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use watch::registry::IdHasher;
use watch::{
    Columns, FeedRecord, Findings, Registry, Rejection, Thresholds, Warning, compare_found,
    compare_record, duplicate_warnings, extra_houses,
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
    /// 比对基准日: the parameters in force and the categories on that day [default: today in Beijing, UTC+8]
    #[arg(long = "as-of", value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// A parameter catalogue (TOML) instead of the built-in `policy/catalogue.toml`
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Overrides a parameter for this run, e.g. `--set comparison.medical_large_yuan=20000`
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Also takes the values added in the product (政策参数 page) from this database, as
    /// `serve` does (not with `--policy`)
    #[arg(long, value_name = "URL", conflicts_with = "policy")]
    pub db: Option<String>,
    /// The catalogue in force read from `--db` by `safetynet` before the run (not a flag).
    #[arg(skip)]
    pub catalogue: Option<std::sync::Arc<policy::Catalogue>>,
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

const BLOCK_BYTES: usize = 4 << 20;

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
    workers: Phases,
}

/// `run_compare` writing warnings to `output` and rejected rows to `errors`.
pub fn compare_to<W: Write, E: Write>(
    args: &CompareArgs,
    mut output: W,
    mut errors: E,
) -> anyhow::Result<CompareSummary> {
    let as_of = args.as_of.unwrap_or_else(crate::beijing_today);
    let snapshot = load_snapshot(
        &AssessArgs {
            as_of: Some(as_of),
            policy: args.policy.clone(),
            set: args.set.clone(),
            db: args.db.clone(),
            catalogue: args.catalogue.clone(),
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
    let mut seen: HashSet<WarningKey, BuildHasherDefault<IdHasher>> =
        HashSet::with_capacity_and_hasher(1 << 21, BuildHasherDefault::default());
    let mut out = Vec::with_capacity(1 << 20);
    let mut houses = Vec::new();
    let emit = |warnings: &[Warning],
                seen: &mut HashSet<WarningKey, BuildHasherDefault<IdHasher>>,
                out: &mut Vec<u8>,
                summary: &mut CompareSummary| {
        for warning in warnings {
            if seen.insert(warning.dedupe_key()) {
                warning.write_json(&registry, &thresholds, &feed_names, out);
                summary.warnings += 1;
            }
        }
    };
    emit(
        &duplicate_warnings(&registry),
        &mut seen,
        &mut out,
        &mut summary,
    );
    for (feed_index, path) in args.feed.iter().enumerate() {
        let feed = u32::try_from(feed_index).unwrap_or(u32::MAX);
        let started = Instant::now();
        let mut on_block = |rendered: Rendered| -> anyhow::Result<()> {
            summary.records += rendered.records;
            clock.workers.parse += rendered.phases.parse;
            clock.workers.matching += rendered.phases.matching;
            clock.workers.rules += rendered.phases.rules;
            clock.workers.render += rendered.phases.render;
            let written = Instant::now();
            let mut from = 0;
            for (key, end) in &rendered.warnings {
                if seen.insert(*key) {
                    out.extend_from_slice(&rendered.bytes[from..*end]);
                    summary.warnings += 1;
                }
                from = *end;
            }
            houses.extend(rendered.houses);
            if !rendered.rejections.is_empty() {
                // Standard error is unbuffered: one write per block.
                let mut lines = Vec::with_capacity(rendered.rejections.len() * 80);
                for rejection in &rendered.rejections {
                    writeln!(
                        lines,
                        "{}:{}: {}",
                        path.display(),
                        rejection.line,
                        rejection.reason
                    )?;
                }
                errors.write_all(&lines)?;
            }
            summary.rejected += rendered.rejections.len() as u64;
            if out.len() > (1 << 20) {
                output.write_all(&out)?;
                out.clear();
            }
            clock.output += written.elapsed();
            Ok(())
        };
        read_feed(
            path,
            feed,
            &registry,
            &thresholds,
            &feed_names,
            &mut on_block,
        )
        .with_context(|| format!("read {}", path.display()))?;
        clock.feeds += started.elapsed();
    }
    let mut warnings = extra_houses(&mut houses, &registry, &thresholds);
    warnings.sort_by_key(|warning| (warning.feed, warning.line));
    emit(&warnings, &mut seen, &mut out, &mut summary);
    output.write_all(&out)?;
    output.flush()?;
    if args.timings {
        let feeds = clock.feeds.as_secs_f64();
        writeln!(
            errors,
            "compare: households={} persons={} records={} rejected={} warnings={}\n\
             compare: wall registry={:.2}s feeds={:.2}s ({:.0} records/s)\n\
             compare: worker time over {} threads: parse={:.2}s match={:.2}s rules={:.2}s render={:.2}s; calling thread: dedupe+write={:.2}s",
            summary.households,
            summary.persons,
            summary.records,
            summary.rejected,
            summary.warnings,
            clock.registry.as_secs_f64(),
            feeds,
            summary.records as f64 / feeds.max(1e-9),
            workers(),
            clock.workers.parse.as_secs_f64(),
            clock.workers.matching.as_secs_f64(),
            clock.workers.rules.as_secs_f64(),
            clock.workers.render.as_secs_f64(),
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

/// Reads `input` in blocks on a reader thread, runs `work` on each block on one worker thread
/// per core, and hands the results to `sink` on the calling thread in block order. Channels are
/// bounded, so at most a few blocks are in memory at once.
fn pipeline<R, T>(
    input: R,
    work: impl Fn(&[u8], u64) -> T + Sync,
    mut sink: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<()>
where
    R: Read + Send,
    T: Send,
{
    use std::collections::BTreeMap;
    use std::sync::mpsc::sync_channel;
    use std::sync::{Arc, Mutex};
    let (block_tx, block_rx) = sync_channel::<(u64, Vec<u8>, u64)>(QUEUE_BLOCKS);
    let block_rx = Arc::new(Mutex::new(block_rx));
    let (done_tx, done_rx) = sync_channel::<(u64, T)>(QUEUE_BLOCKS);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut seq = 0;
            for_each_block(input, |block, first_line| {
                block_tx
                    .send((seq, block.to_vec(), first_line))
                    .map_err(|_| anyhow::anyhow!("workers stopped"))?;
                seq += 1;
                Ok(())
            })
        });
        for _ in 0..workers() {
            let block_rx = Arc::clone(&block_rx);
            let done_tx = done_tx.clone();
            let work = &work;
            scope.spawn(move || {
                loop {
                    let next = match block_rx.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, block, first_line)) = next else {
                        return;
                    };
                    if done_tx.send((seq, work(&block, first_line))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut pending = BTreeMap::new();
        let mut next = 0;
        let mut result = Ok(());
        for (seq, done) in done_rx.iter() {
            pending.insert(seq, done);
            while let Some(done) = pending.remove(&next) {
                next += 1;
                if result.is_ok() {
                    result = sink(done);
                }
            }
            if result.is_err() {
                break;
            }
        }
        drop(done_rx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("reader thread panicked")));
        result?;
        read
    })
}

const QUEUE_BLOCKS: usize = 4;

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Where the lines of a block are, with their numbers (blank lines skipped).
fn line_spans(piece: &[u8], first_line: u64) -> impl Iterator<Item = (usize, usize, u64)> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', piece)
        .chain((piece.last() != Some(&b'\n')).then_some(piece.len()))
        .map(move |end| {
            let span = (start, end);
            start = end + 1;
            span
        })
        .zip(first_line..)
        .filter(|((start, end), _)| end > start && piece[*start..*end] != *b"\r")
        .map(|((start, end), line_no)| (start, end, line_no))
}

/// The lines of a block with their numbers (blank lines skipped).
fn lines(piece: &[u8], first_line: u64) -> impl Iterator<Item = (&[u8], u64)> {
    line_spans(piece, first_line).map(|(start, end, line_no)| (&piece[start..end], line_no))
}

fn load_registry<E: Write>(
    path: &Path,
    snapshot: &policy::Snapshot,
    errors: &mut E,
) -> anyhow::Result<(Registry, u64)> {
    let file = std::fs::File::open(path)?;
    let estimate = file.metadata().map_or(0, |meta| meta.len() as usize / 400);
    // About 400 bytes a person in generated files; the map grows if there are more.
    let mut registry = Registry::with_capacity(estimate / 2, estimate);
    let mut bad = 0;
    pipeline(
        file,
        |block, first_line| {
            lines(block, first_line)
                .map(|(text, line_no)| {
                    read_household(text)
                        .map(|household| watch::summarise(&household, snapshot))
                        .map_err(|reason| (line_no, reason))
                })
                .collect::<Vec<_>>()
        },
        |results| {
            let mut summaries = Vec::with_capacity(results.len());
            for result in results {
                match result {
                    Ok(summary) => summaries.push(summary),
                    Err((line_no, reason)) => {
                        bad += 1;
                        writeln!(errors, "{}:{line_no}: {reason}", path.display())?;
                    }
                }
            }
            registry.add_all(summaries);
            Ok(())
        },
    )?;
    Ok((registry, bad))
}

/// Worker time by phase, summed over blocks (`--timings`).
#[derive(Clone, Copy, Debug, Default)]
struct Phases {
    parse: Duration,
    matching: Duration,
    rules: Duration,
    render: Duration,
}

/// What a worker made of one block of a feed: warnings rendered, with their dedupe keys.
struct Rendered {
    phases: Phases,
    /// Each warning's dedupe key and the end of its JSON line in `bytes`.
    warnings: Vec<(WarningKey, usize)>,
    bytes: Vec<u8>,
    houses: Vec<watch::HouseFact>,
    rejections: Vec<Rejection>,
    records: u64,
}

type WarningKey = (u64, u64, u8);

struct FeedContext<'a> {
    feed: u32,
    format: Format,
    columns: Columns,
    registry: &'a Registry,
    thresholds: &'a Thresholds,
    feed_names: &'a [String],
}

fn compare_piece(piece: &[u8], first_line: u64, context: &FeedContext<'_>) -> Rendered {
    let mut findings = Findings::default();
    let mut rejections = Vec::new();
    let mut records = 0;
    // Records are read in batches; the batch's registry lookups run back to back, so that
    // their cache misses overlap, before the rules see any record.
    const BATCH: usize = watch::registry::BATCH;
    let mut batch: Vec<FeedRecord<'_>> = Vec::with_capacity(BATCH);
    let mut found: Vec<Option<watch::PersonEntry>> = Vec::with_capacity(BATCH);
    // Cells with doubled quotes are unquoted into a buffer the record borrows; such rows are
    // compared at once, before the buffer is used again.
    let mut scratch = String::new();
    // Time is taken once a batch, not once a record: parsing until the batch is full, then
    // matching (the lookups), then the rules.
    let mut phases = Phases::default();
    let mut mark = Instant::now();
    let mut flush = |batch: &mut Vec<FeedRecord<'_>>, findings: &mut Findings| {
        let parsed = Instant::now();
        phases.parse += parsed - mark;
        context
            .registry
            .persons(batch.iter().map(|record| &record.id_number), &mut found);
        // The rules read the household of a person in the net: those reads overlap too.
        let mut touched = 0u16;
        for person in found.iter().flatten() {
            if person.inside_net
                && let Some(household) = context.registry.household(person.household)
            {
                touched ^= household.members;
            }
        }
        std::hint::black_box(touched);
        let matched = Instant::now();
        phases.matching += matched - parsed;
        for (record, person) in batch.iter().zip(&found) {
            compare_found(
                record,
                person.as_ref(),
                context.feed,
                context.registry,
                context.thresholds,
                findings,
            );
        }
        batch.clear();
        mark = Instant::now();
        phases.rules += mark - matched;
    };
    // The block is checked as UTF-8 once; only if that fails is each line checked alone.
    let whole = simdutf8::basic::from_utf8(piece).ok();
    for (start, end, line_no) in line_spans(piece, first_line) {
        records += 1;
        let text = match whole {
            Some(whole) => whole.get(start..end),
            None => std::str::from_utf8(&piece[start..end]).ok(),
        };
        let Some(text) = text else {
            rejections.push(Rejection {
                line: line_no,
                reason: "该行不是有效的 UTF-8 文本".to_owned(),
            });
            continue;
        };
        let result = match context.format {
            Format::Csv => match context.columns.parse_line(text, line_no) {
                Ok(record) => {
                    batch.push(record);
                    if batch.len() == BATCH {
                        flush(&mut batch, &mut findings);
                    }
                    Ok(())
                }
                Err(_) => context
                    .columns
                    .parse_line_in(text, line_no, &mut scratch)
                    .map(|record| {
                        // In file order: the batch first.
                        flush(&mut batch, &mut findings);
                        compare_record(
                            &record,
                            context.feed,
                            context.registry,
                            context.thresholds,
                            &mut findings,
                        );
                    }),
            },
            Format::JsonLines => watch::feed::parse_json_line(text, line_no, |record| {
                compare_record(
                    record,
                    context.feed,
                    context.registry,
                    context.thresholds,
                    &mut findings,
                );
            }),
        };
        if let Err(rejection) = result {
            rejections.push(rejection);
        }
    }
    flush(&mut batch, &mut findings);
    let mut rendered = render(findings, rejections, records, context);
    rendered.phases.parse += phases.parse;
    rendered.phases.matching += phases.matching;
    rendered.phases.rules += phases.rules;
    rendered
}

/// Renders a block's warnings (JSON lines with their dedupe keys).
fn render(
    findings: Findings,
    rejections: Vec<Rejection>,
    records: u64,
    context: &FeedContext<'_>,
) -> Rendered {
    let started = Instant::now();
    // Each warning names its household: read those IDs first, so that their cache misses
    // overlap instead of stalling the writing one by one.
    let mut touched = 0u8;
    for warning in &findings.warnings {
        if let Some(id) = warning
            .household
            .and_then(|index| context.registry.household_id(index))
        {
            touched ^= id.as_bytes().first().copied().unwrap_or(0);
        }
    }
    std::hint::black_box(touched);
    let mut rendered = Rendered {
        phases: Phases::default(),
        warnings: Vec::with_capacity(findings.warnings.len()),
        bytes: Vec::with_capacity(findings.warnings.len() * 240),
        houses: findings.houses,
        rejections,
        records,
    };
    for warning in &findings.warnings {
        warning.write_json(
            context.registry,
            context.thresholds,
            context.feed_names,
            &mut rendered.bytes,
        );
        rendered
            .warnings
            .push((warning.dedupe_key(), rendered.bytes.len()));
    }
    rendered.phases.render = started.elapsed();
    rendered
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    JsonLines,
}

/// An XLSX feed (an office export, not the ten-million-row kind): read whole, on this thread.
fn compare_xlsx(
    path: &Path,
    context: &FeedContext<'_>,
    on_block: &mut OnBlock<'_>,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(path)?;
    let mut findings = Findings::default();
    let mut rejections = Vec::new();
    let records = watch::read_xlsx(&bytes, |row| match row {
        Ok(record) => compare_record(
            record,
            context.feed,
            context.registry,
            context.thresholds,
            &mut findings,
        ),
        Err(rejection) => rejections.push(rejection),
    })?;
    on_block(render(findings, rejections, records, context))
}

type OnBlock<'a> = dyn FnMut(Rendered) -> anyhow::Result<()> + 'a;

fn read_feed(
    path: &Path,
    feed: u32,
    registry: &Registry,
    thresholds: &Thresholds,
    feed_names: &[String],
    on_block: &mut OnBlock<'_>,
) -> anyhow::Result<()> {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let format = match watch::FeedFormat::from_extension(&extension) {
        Some(watch::FeedFormat::Csv) => Format::Csv,
        Some(watch::FeedFormat::JsonLines) => Format::JsonLines,
        Some(watch::FeedFormat::Xlsx) => {
            let context = FeedContext {
                feed,
                format: Format::Csv,
                columns: Columns::from_header("id_number,name,kind,value,date,detail")?,
                registry,
                thresholds,
                feed_names,
            };
            return compare_xlsx(path, &context, on_block);
        }
        None => anyhow::bail!("不认识的文件类型“.{extension}”（应为 .csv、.jsonl 或 .xlsx）"),
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
    let decoded;
    let (head, rest): (Vec<u8>, Option<std::fs::File>) = if valid_utf8 {
        (head, Some(file))
    } else {
        let mut bytes = head;
        file.read_to_end(&mut bytes)?;
        decoded = watch::decode(&bytes)?.into_owned();
        (decoded.into_bytes(), None)
    };
    let (columns, body_at, line_offset) = match format {
        Format::Csv => {
            let end = memchr::memchr(b'\n', &head).map_or(head.len(), |at| at + 1);
            let header = std::str::from_utf8(&head[..end])
                .map_err(|_| anyhow::anyhow!("表头不是有效的 UTF-8 文本"))?;
            (Columns::from_header(header)?, end, 1)
        }
        Format::JsonLines => (
            Columns::from_header("id_number,name,kind,value,date,detail")?,
            0,
            0,
        ),
    };
    let context = FeedContext {
        feed,
        format,
        columns,
        registry,
        thresholds,
        feed_names,
    };
    let body = io::Cursor::new(&head[body_at..]);
    let work =
        |block: &[u8], first_line: u64| compare_piece(block, first_line + line_offset, &context);
    match rest {
        Some(file) => pipeline(body.chain(file), work, on_block),
        None => pipeline(body, work, on_block),
    }
}

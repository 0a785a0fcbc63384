//! `safetynet assess`: JSON Lines households in, one determination per line out, in input order.
//!
//! Pipeline: a reader thread cuts the input into blocks of whole lines; worker threads (one
//! per core) parse, determine and serialise a block into an output buffer; the calling thread
//! writes the buffers in block order. Channels are bounded and buffers are recycled, so memory
//! stays bounded whatever the size of the file.

use crate::fastparse;
use anyhow::Context;
use chrono::NaiveDate;
use domain::Household;
use policy::{
    Catalogue, DeterminationRecord, LineError, Override, Snapshot, determine, determine_quiet,
};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Arguments of `safetynet assess`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AssessArgs {
    /// 认定基准日 (as-of date): the parameters then in force and the ages on that day [default: today in Beijing, UTC+8]
    #[arg(long = "as-of", value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    /// A parameter catalogue (TOML) instead of the built-in `policy/catalogue.toml`
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Overrides a parameter for this run, e.g. `--set monitoring.income_line=9000` (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Also takes the values added in the product (政策参数 page) from this database, as
    /// `serve` does (not with `--policy`)
    #[arg(long, value_name = "URL", conflicts_with = "policy")]
    pub db: Option<String>,
    /// The catalogue in force read from `--db` by `safetynet` before the run (not a flag).
    #[arg(skip)]
    pub catalogue: Option<Arc<Catalogue>>,
    /// Leaves out the explanation array (same determinations, much faster)
    #[arg(long = "no-explain")]
    pub no_explain: bool,
    /// Households as JSON Lines (`spec/HOUSEHOLD.md`); `-` for standard input
    #[arg(value_name = "FILE", default_value = "-")]
    pub file: String,
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Households assessed.
    pub households: u64,
    /// Of these, determinations with a pending test (待人工核定: a parameter without value).
    pub pending: u64,
    /// Lines that could not be read (each written as `{"line": N, "error": …}`).
    pub errors: u64,
}

/// Runs `assess` as the command line asks, writing to standard output. `Ok(false)` when any
/// line could not be read (the caller exits non-zero); `Err` when the run itself failed.
pub fn run_assess(args: &AssessArgs) -> anyhow::Result<bool> {
    let stdout = io::stdout();
    let summary = assess_to(args, stdout.lock())?;
    eprintln!(
        "assessed {} households: {} decided, {} pending (待人工核定, a parameter without value); {} lines unreadable",
        summary.households,
        summary.households - summary.pending,
        summary.pending,
        summary.errors
    );
    Ok(summary.errors == 0)
}

/// `run_assess` writing to `output`; reads the clock only when `--as-of` is absent.
pub fn assess_to<W: Write>(args: &AssessArgs, output: W) -> anyhow::Result<Summary> {
    let as_of = args.as_of.unwrap_or_else(crate::beijing_today);
    let snapshot = load_snapshot(args, as_of)?;
    let input: Box<dyn Read + Send> = if args.file == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(std::fs::File::open(&args.file).with_context(|| format!("open {}", args.file))?)
    };
    let options = Options::new(as_of, !args.no_explain);
    assess_stream(input, output, &snapshot, &options)
        .with_context(|| format!("assess {}", args.file))
}

/// The catalogue (built-in or `--policy`) resolved at `as_of`, with `--set` applied.
pub fn load_snapshot(args: &AssessArgs, as_of: NaiveDate) -> anyhow::Result<Snapshot> {
    if args.db.is_some() && args.catalogue.is_none() {
        anyhow::bail!("--db: the catalogue of the database was not read");
    }
    let catalogue = match (&args.catalogue, &args.policy) {
        (Some(catalogue), _) => (**catalogue).clone(),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("read {}", path.display()))?;
            Catalogue::from_toml(&text, &path.display().to_string())?
        }
        (None, None) => Catalogue::builtin()?,
    };
    let overrides = args
        .set
        .iter()
        .map(|text| Override::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(catalogue.snapshot(as_of).with_overrides(&overrides))
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// How to assess a stream.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub as_of: NaiveDate,
    pub explain: bool,
    /// Worker threads (at least one); by default one per core.
    pub workers: usize,
    /// Bytes read per block; a block always ends at a line end (a longer line makes a longer
    /// block). Small blocks in tests exercise the reordering.
    pub block_bytes: usize,
}

impl Options {
    pub fn new(as_of: NaiveDate, explain: bool) -> Self {
        Options {
            as_of,
            explain,
            workers: default_workers(),
            block_bytes: BLOCK_BYTES,
        }
    }
}

const BLOCK_BYTES: usize = 1 << 20;
/// Blocks queued between stages; with the recycled buffers this bounds memory.
const QUEUE_BLOCKS: usize = 4;

struct Block {
    seq: u64,
    /// 1-based number of the block's first line.
    first_line: u64,
    /// The block is `bytes[..len]`; the rest of the buffer is left from earlier use.
    bytes: Vec<u8>,
    len: usize,
}

struct Rendered {
    seq: u64,
    bytes: Vec<u8>,
    /// The block's input buffer, handed back to the reader once the output is written.
    input: Vec<u8>,
    summary: Summary,
}

/// Assesses every line of `input` and writes one line per household to `output`, in order.
///
/// Memory: the reader takes an input buffer from a fixed pool before it reads a block, and a
/// buffer returns to the pool only when its block's output has been written. So at most
/// `pool` blocks are ever in flight, however slow one block is, and however large the file.
pub fn assess_stream<R, W>(
    input: R,
    mut output: W,
    snapshot: &Snapshot,
    options: &Options,
) -> io::Result<Summary>
where
    R: Read + Send,
    W: Write,
{
    let workers = options.workers.max(1);
    let pool = QUEUE_BLOCKS + 2 * workers;
    let (block_tx, block_rx) = sync_channel::<Block>(QUEUE_BLOCKS);
    let block_rx = Arc::new(Mutex::new(block_rx));
    let (rendered_tx, rendered_rx) = sync_channel::<Rendered>(pool);
    let (spare_in_tx, spare_in_rx) = sync_channel::<Vec<u8>>(pool);
    let (spare_out_tx, spare_out_rx) = sync_channel::<Vec<u8>>(pool);
    let spare_out_rx = Arc::new(Mutex::new(spare_out_rx));
    for _ in 0..pool {
        // Cannot fail: the channel holds exactly `pool` buffers and its receiver is alive.
        let _ = spare_in_tx.try_send(Vec::new());
    }

    std::thread::scope(|scope| {
        let block_bytes = options.block_bytes.max(1);
        let reader = scope.spawn(move || read_blocks(input, block_bytes, &block_tx, &spare_in_rx));
        for _ in 0..workers {
            let block_rx = Arc::clone(&block_rx);
            let rendered_tx = rendered_tx.clone();
            let spare_out_rx = Arc::clone(&spare_out_rx);
            scope.spawn(move || {
                render_blocks(&block_rx, &rendered_tx, &spare_out_rx, snapshot, options)
            });
        }
        drop(block_rx);
        drop(rendered_tx);
        let written = write_in_order(&rendered_rx, &mut output, &spare_in_tx, &spare_out_tx);
        // On a write error the channels close here, which stops the workers and the reader.
        drop(rendered_rx);
        drop(spare_in_tx);
        drop(spare_out_tx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("reader thread panicked")));
        let summary = written?;
        read?;
        output.flush()?;
        Ok(summary)
    })
}

fn read_blocks<R: Read>(
    mut input: R,
    block_bytes: usize,
    blocks: &SyncSender<Block>,
    pool: &Receiver<Vec<u8>>,
) -> io::Result<()> {
    let mut carry: Vec<u8> = Vec::new();
    let mut seq = 0;
    let mut next_line = 1;
    loop {
        // Waits for a block's output to be written when all buffers are in flight.
        let Ok(mut bytes) = pool.recv() else {
            return Ok(());
        };
        // A buffer keeps its length from one use to the next (memory already written, so it is
        // not zeroed again); `filled` says how much of it this block uses.
        let mut filled = carry.len();
        if bytes.len() < filled + block_bytes {
            bytes.resize(filled + block_bytes, 0);
        }
        bytes[..filled].copy_from_slice(&carry);
        carry.clear();
        let mut at_end = false;
        while filled < block_bytes || memchr::memchr(b'\n', &bytes[..filled]).is_none() {
            if filled == bytes.len() {
                // A line longer than a block: grow the buffer.
                bytes.resize(filled + block_bytes.max(filled / 2), 0);
            }
            let read = loop {
                match input.read(&mut bytes[filled..]) {
                    Ok(read) => break read,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => return Err(error),
                }
            };
            filled += read;
            if read == 0 {
                at_end = true;
                break;
            }
        }
        if !at_end {
            // Keep the unfinished last line for the next block.
            if let Some(last_newline) = memchr::memrchr(b'\n', &bytes[..filled]) {
                carry.extend_from_slice(&bytes[last_newline + 1..filled]);
                filled = last_newline + 1;
            }
        }
        if filled == 0 {
            return Ok(());
        }
        let lines =
            u64::try_from(memchr::memchr_iter(b'\n', &bytes[..filled]).count()).unwrap_or(u64::MAX);
        let block = Block {
            seq,
            first_line: next_line,
            bytes,
            len: filled,
        };
        seq += 1;
        next_line += lines;
        if blocks.send(block).is_err() || at_end {
            return Ok(());
        }
    }
}

fn render_blocks(
    blocks: &Mutex<Receiver<Block>>,
    rendered: &SyncSender<Rendered>,
    spare_out: &Mutex<Receiver<Vec<u8>>>,
    snapshot: &Snapshot,
    options: &Options,
) {
    loop {
        let block = match blocks.lock() {
            Ok(receiver) => match receiver.recv() {
                Ok(block) => block,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let mut bytes = spare_out
            .lock()
            .ok()
            .and_then(|receiver| receiver.try_recv().ok())
            .unwrap_or_else(|| Vec::with_capacity(block.len * 2));
        bytes.clear();
        let summary = render_block(&block, &mut bytes, snapshot, options);
        let rendered_block = Rendered {
            seq: block.seq,
            bytes,
            input: block.bytes,
            summary,
        };
        if rendered.send(rendered_block).is_err() {
            return;
        }
    }
}

/// Reads one household line (`spec/HOUSEHOLD.md`): the quick reader for the usual line, else
/// `domain::interchange`, which also names the field of a line that cannot be read.
pub fn read_household(line: &[u8]) -> Result<Household, String> {
    simdutf8::basic::from_utf8(line)
        .ok()
        .and_then(fastparse::household)
        .map_or_else(|| domain::interchange::parse_household_bytes(line), Ok)
}

/// Parses, determines and serialises every line of one block.
fn render_block(
    block: &Block,
    out: &mut Vec<u8>,
    snapshot: &Snapshot,
    options: &Options,
) -> Summary {
    let mut summary = Summary::default();
    let mut start = 0;
    let bytes = &block.bytes[..block.len];
    let ends = memchr::memchr_iter(b'\n', bytes)
        .chain((bytes.last() != Some(&b'\n')).then_some(bytes.len()));
    for (this_line, end) in (block.first_line..).zip(ends) {
        let raw = &bytes[start..end];
        start = end + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        // A blank line holds no household (the final newline of a file makes one too).
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = read_household(line);
        match parsed {
            Ok(household) => {
                let determination = if options.explain {
                    determine(&household, snapshot, options.as_of)
                } else {
                    determine_quiet(&household, snapshot, options.as_of)
                };
                let record = DeterminationRecord {
                    household_id: household.id.as_str(),
                    as_of: options.as_of,
                    determination: &determination,
                    explain: options.explain,
                };
                record.write_json(out);
                out.push(b'\n');
                summary.households += 1;
                summary.pending += u64::from(!determination.pending.is_empty());
            }
            Err(error) => {
                write_json(
                    out,
                    &LineError {
                        line: this_line,
                        error: &error,
                    },
                );
                summary.errors += 1;
            }
        }
    }
    summary
}

fn write_json<T: serde::Serialize>(out: &mut Vec<u8>, value: &T) {
    let mark = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        // Serialising our own records into memory cannot fail; keep the line count honest anyway.
        out.truncate(mark);
        out.extend_from_slice(br#"{"error":"serialisation failed"}"#);
    }
    out.push(b'\n');
}

fn write_in_order<W: Write>(
    rendered: &Receiver<Rendered>,
    output: &mut W,
    pool: &SyncSender<Vec<u8>>,
    spare_out: &SyncSender<Vec<u8>>,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut waiting: BTreeMap<u64, Rendered> = BTreeMap::new();
    let mut next = 0;
    for block in rendered {
        waiting.insert(block.seq, block);
        while let Some(block) = waiting.remove(&next) {
            output.write_all(&block.bytes)?;
            summary.households += block.summary.households;
            summary.pending += block.summary.pending;
            summary.errors += block.summary.errors;
            next += 1;
            // The reader may have finished (its end of the pool is gone): the buffer is freed.
            let _ = pool.try_send(block.input);
            let _ = spare_out.try_send(block.bytes);
        }
    }
    Ok(summary)
}

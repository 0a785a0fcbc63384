//! Reading a household file for an import without holding it: a reader thread cuts the file
//! into blocks of whole lines, one worker thread per core parses them, and the import takes
//! the parsed blocks in file order. Memory holds a few blocks per worker, never the file.

use domain::Household;
use domain::interchange::parse_household_line;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::mpsc;

/// Opens the file to import; called once to fingerprint it and once to load it.
pub type OpenFile = Box<dyn Fn() -> std::io::Result<Box<dyn Read + Send>> + Send + Sync>;

/// Bytes per block handed to a worker (whole lines; a longer line makes a longer block).
const BLOCK_BYTES: usize = 1 << 20;

/// Blocks queued per worker, besides the one it parses and the one the import reads.
const QUEUED_BLOCKS: usize = 2;

/// One non-empty line: its 1-based number and the household with its record as stored (the
/// interchange JSON) and the record's SHA-256 (hex), or the reason it was refused, in Chinese.
pub(crate) struct ParsedLine {
    pub line: usize,
    pub outcome: Result<(Household, String, String), String>,
}

type Block = std::io::Result<(usize, Vec<u8>)>;
type ParsedBlock = std::io::Result<Vec<ParsedLine>>;

/// The file's SHA-256 (hex) and its number of non-empty lines, read as a stream.
pub(crate) fn fingerprint(open: &OpenFile) -> std::io::Result<(String, u64)> {
    let mut reader = open()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0_u8; BLOCK_BYTES];
    let mut n_lines = 0_u64;
    let mut line_has_text = false;
    loop {
        let n_read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n_read) => n_read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        hasher.update(&buffer[..n_read]);
        for &byte in &buffer[..n_read] {
            if byte == b'\n' {
                n_lines += u64::from(line_has_text);
                line_has_text = false;
            } else if !byte.is_ascii_whitespace() {
                line_has_text = true;
            }
        }
    }
    n_lines += u64::from(line_has_text);
    Ok((hex::encode(hasher.finalize()), n_lines))
}

/// The parsed blocks of a file, in order.
pub(crate) struct ParsedBlocks {
    receivers: Vec<tokio::sync::mpsc::Receiver<ParsedBlock>>,
    next: usize,
}

impl ParsedBlocks {
    /// Starts the reader and `n_workers` parsers; they stop when the file ends or when this
    /// value is dropped.
    pub(crate) fn spawn(open: OpenFile, n_workers: usize) -> ParsedBlocks {
        let n_workers = n_workers.max(1);
        let mut to_workers = Vec::with_capacity(n_workers);
        let mut receivers = Vec::with_capacity(n_workers);
        for _ in 0..n_workers {
            let (block_sender, block_receiver) = mpsc::sync_channel::<Block>(QUEUED_BLOCKS);
            let (parsed_sender, parsed_receiver) = tokio::sync::mpsc::channel(QUEUED_BLOCKS);
            std::thread::spawn(move || parse_blocks(&block_receiver, &parsed_sender));
            to_workers.push(block_sender);
            receivers.push(parsed_receiver);
        }
        std::thread::spawn(move || read_blocks(&open, &to_workers));
        ParsedBlocks { receivers, next: 0 }
    }

    /// The next block in file order, or `None` at the end of the file.
    pub(crate) async fn next(&mut self) -> Option<ParsedBlock> {
        let n_workers = self.receivers.len();
        let receiver = self.receivers.get_mut(self.next % n_workers)?;
        self.next += 1;
        receiver.recv().await
    }
}

/// Block `k` goes to worker `k % n`, so reading the workers in turn gives the file's order.
fn read_blocks(open: &OpenFile, to_workers: &[mpsc::SyncSender<Block>]) {
    let mut reader = match open() {
        Ok(reader) => reader,
        Err(error) => {
            if let Some(first) = to_workers.first() {
                let _stopped = first.send(Err(error));
            }
            return;
        }
    };
    let mut pending: Vec<u8> = Vec::with_capacity(BLOCK_BYTES * 2);
    let mut first_line = 1_usize;
    let mut block_idx = 0_usize;
    let mut at_end = false;
    while !at_end {
        let start = pending.len();
        pending.resize(start + BLOCK_BYTES, 0);
        let n_read = loop {
            match reader.read(&mut pending[start..]) {
                Ok(n_read) => break Ok(n_read),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => break Err(error),
            }
        };
        let n_read = match n_read {
            Ok(n_read) => n_read,
            Err(error) => {
                let _stopped = to_workers[block_idx % to_workers.len()].send(Err(error));
                return;
            }
        };
        pending.truncate(start + n_read);
        at_end = n_read == 0;
        // A block ends after its last newline; the partial line waits for the next read.
        let cut = if at_end {
            pending.len()
        } else {
            match pending.iter().rposition(|&byte| byte == b'\n') {
                Some(newline) if pending.len() >= BLOCK_BYTES => newline + 1,
                _ => continue,
            }
        };
        if cut == 0 {
            continue;
        }
        let rest = pending.split_off(cut);
        let block = std::mem::replace(&mut pending, rest);
        let n_newlines = block.iter().filter(|&&byte| byte == b'\n').count();
        if to_workers[block_idx % to_workers.len()]
            .send(Ok((first_line, block)))
            .is_err()
        {
            return;
        }
        first_line += n_newlines;
        block_idx += 1;
    }
}

fn parse_blocks(blocks: &mpsc::Receiver<Block>, parsed: &tokio::sync::mpsc::Sender<ParsedBlock>) {
    while let Ok(block) = blocks.recv() {
        let lines = block.map(|(first_line, bytes)| parse_block(first_line, &bytes));
        if parsed.blocking_send(lines).is_err() {
            return;
        }
    }
}

fn parse_block(first_line: usize, bytes: &[u8]) -> Vec<ParsedLine> {
    let mut lines = Vec::new();
    for (idx, raw) in bytes.split(|&byte| byte == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        // A UTF-8 byte-order mark at the start of the file (as some editors write) is not data.
        let raw = if first_line == 1 && idx == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let outcome = match std::str::from_utf8(raw) {
            Err(_) => Err("不是UTF-8编码的文本".to_owned()),
            Ok(text) => parse_household_line(text).and_then(|household| {
                crate::households::record_json(&household)
                    .map(|json| {
                        let digest = hex::encode(Sha256::digest(json.as_bytes()));
                        (household, json, digest)
                    })
                    .map_err(|error| error.to_string())
            }),
        };
        lines.push(ParsedLine {
            line: first_line + idx,
            outcome,
        });
    }
    lines
}

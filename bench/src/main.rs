//! `glance-bench`: the whole-process benchmark harness behind BENCHMARKS.md.
//!
//! `bench/run` builds it and runs `glance-bench all`, which measures every
//! comparison side by side and rewrites the results block of BENCHMARKS.md.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use glance_bench::harness::{self, Env, Settings, child, report};

#[global_allocator]
static ALLOC: glance_bench::alloc::Counting = glance_bench::alloc::Counting;

const BEGIN: &str = "<!-- results:begin (written by bench/run) -->";
const END: &str = "<!-- results:end -->";

#[derive(Debug, Parser)]
#[command(name = "glance-bench", about)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Args)]
struct Knobs {
    /// Size of the download and upload comparisons, MiB.
    #[arg(long, default_value_t = 1024)]
    size_mib: u64,
    /// The larger size of the memory figures, MiB.
    #[arg(long, default_value_t = 4096)]
    big_mib: u64,
    /// Size uploaded to real Glance, MiB.
    #[arg(long, default_value_t = 256)]
    real_mib: u64,
    /// Size of each download of the scaling figures, MiB.
    #[arg(long, default_value_t = 256)]
    scaling_mib: u64,
    /// Repetitions of each timed comparison (medians are reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Seconds of each wrk run.
    #[arg(long, default_value_t = 5)]
    rate_secs: u64,
    /// Port for the real Glance 33 started by the comparisons (0: skip it).
    #[arg(long, default_value_t = 9404)]
    real_port: u16,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Every comparison; rewrites the results block of BENCHMARKS.md.
    All {
        #[command(flatten)]
        knobs: Knobs,
        /// Where to write the results (the block between the markers).
        #[arg(long)]
        write: Option<PathBuf>,
        /// Print only; leave BENCHMARKS.md alone.
        #[arg(long)]
        no_write: bool,
        /// Only these sections (hash, download, upload, rate, list, memory, scaling, parallel).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// One section, printed.
    Section {
        /// hash, download, upload, rate, list, memory, scaling or parallel.
        name: String,
        #[command(flatten)]
        knobs: Knobs,
    },
    /// (internal) Download in this process and print its figures.
    ChildDownload {
        #[arg(long)]
        url: String,
        #[arg(long)]
        id: String,
        #[arg(long, default_value_t = 1)]
        streams: usize,
        #[arg(long)]
        no_verify: bool,
        /// Connections each download uses (`DownloadOptions::connections`).
        #[arg(long, default_value_t = 1)]
        connections: usize,
    },
    /// (internal, profiling) Create `count` images in the server at `url`.
    ChildPopulate {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 10_000)]
        count: usize,
    },
    /// (internal, profiling) List every image at `url` through the client.
    ChildList {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 1000)]
        page_size: u32,
    },
    /// (internal) Upload in this process and print its figures.
    ChildUpload {
        #[arg(long)]
        url: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long)]
        generated_mib: Option<u64>,
    },
}

impl Knobs {
    fn settings(&self) -> Settings {
        Settings {
            size_mib: self.size_mib,
            big_mib: self.big_mib,
            real_mib: self.real_mib,
            scaling_mib: self.scaling_mib,
            reps: self.reps.max(1),
            rate_secs: self.rate_secs,
            real_port: self.real_port,
        }
    }
}

const SECTIONS: [&str; 8] = [
    "hash", "download", "upload", "rate", "list", "memory", "scaling", "parallel",
];

async fn section(env: &Env, name: &str) -> String {
    let result = match name {
        "hash" => harness::hash::run(env).await,
        "download" => harness::download::run(env).await,
        "upload" => harness::upload::run(env).await,
        "rate" => harness::rate::run(env).await,
        "list" => harness::list::run(env).await,
        "memory" => harness::memory::run(env).await,
        "scaling" => harness::scaling::run(env).await,
        "parallel" => harness::parallel::run(env).await,
        other => Err(anyhow::anyhow!("no section {other:?}; one of {SECTIONS:?}")),
    };
    result.unwrap_or_else(|e| report::skipped(name, &e))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    match args.command {
        Cmd::All {
            knobs,
            write,
            no_write,
            only,
        } => {
            let env = Env::discover(knobs.settings())?;
            let command = std::env::args().collect::<Vec<_>>().join(" ");
            let mut out = report::header(&command);
            for name in SECTIONS {
                if only.is_empty() || only.iter().any(|o| o == name) {
                    out.push_str(&section(&env, name).await);
                }
            }
            println!("{out}");
            if !no_write {
                let path = write.unwrap_or_else(|| env.repo.join("BENCHMARKS.md"));
                write_block(&path, &out)?;
                eprintln!("results written to {}", path.display());
            }
        }
        Cmd::Section { name, knobs } => {
            let env = Env::discover(knobs.settings())?;
            println!("{}", section(&env, &name).await);
        }
        Cmd::ChildDownload {
            url,
            id,
            streams,
            no_verify,
            connections,
        } => child::download(&url, &id, streams, !no_verify, connections).await?,
        Cmd::ChildPopulate { url, count } => {
            glance_bench::pages::populate(&glance_bench::pages::client(&url)?, count, 16).await?
        }
        Cmd::ChildList { url, page_size } => {
            let client = glance_bench::pages::client(&url)?;
            let n = glance_bench::pages::list_with_client(&client, page_size).await?;
            println!("{{\"images\": {n}}}");
        }
        Cmd::ChildUpload {
            url,
            id,
            file,
            generated_mib,
        } => {
            let source = match (file, generated_mib) {
                (Some(p), _) => child::Source::File(p),
                (None, Some(m)) => child::Source::Generated(m),
                (None, None) => anyhow::bail!("--file or --generated-mib"),
            };
            child::upload(&url, &id, source).await?
        }
    }
    Ok(())
}

/// Replace the block between the markers (or append one).
fn write_block(path: &std::path::Path, results: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{results}{END}");
    let new = match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => {
            format!("{}{block}{}", &text[..b], &text[e + END.len()..])
        }
        _ => format!("{text}\n## Latest results\n\n{block}\n"),
    };
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))
}

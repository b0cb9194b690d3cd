//! Section 2: Upload to the mock: our client against python-glanceclient's
//! `upload`, and the mock's ingest against real Glance 33 and against the
//! two hashes it computes.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use super::report::{Section, f, verdict};
use super::{Env, child, median, mib_s, num, python, run_json};

/// A file of `mib` generated MiB, in `/dev/shm` where there is one (memory:
/// neither client waits on a disk, and the shared disk is spared), else under
/// the work dir. Removed by [`remove_data_file`] after the section.
pub fn data_file(env: &Env, mib: u64) -> Result<PathBuf> {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        shm
    } else {
        env.work_dir.as_path()
    };
    let path = dir.join(format!("glance-bench-{mib}MiB.img"));
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(mib << 20) {
        let block = super::block();
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for _ in 0..mib {
            w.write_all(&block)?;
        }
        w.flush()?;
    }
    Ok(path)
}

/// MD5 and SHA-512 (OpenSSL) over `mib` MiB on one thread, each block
/// through one and then the other: how Glance's `glance_store` hashes an
/// upload in Python (hashlib is OpenSSL too), so the most real Glance's
/// ingest can reach on this machine.
pub fn both_hashes_one_thread(mib: u64) -> f64 {
    use openssl::hash::{Hasher, MessageDigest};
    let block = super::block();
    let started = std::time::Instant::now();
    let (Ok(mut md5), Ok(mut sha)) = (
        Hasher::new(MessageDigest::md5()),
        Hasher::new(MessageDigest::sha512()),
    ) else {
        return f64::NAN;
    };
    for _ in 0..mib {
        let _ = md5.update(&block);
        let _ = sha.update(&block);
    }
    let _ = std::hint::black_box((md5.finish(), sha.finish()));
    mib_s(mib << 20, started.elapsed().as_secs_f64())
}

/// Remove what [`data_file`] made.
pub fn remove_data_file(path: &std::path::Path) {
    let _ = std::fs::remove_file(path);
}

/// Run the comparison; Markdown.
pub async fn run(env: &Env) -> Result<String> {
    let mib = env.settings.size_mib;
    let real_mib = env.settings.real_mib;
    let mut s = Section::new(&format!(
        "2. Upload of {mib} MiB to the mock; mock ingest vs real Glance 33 ({real_mib} MiB)"
    ));
    let file = data_file(env, mib)?;
    let mock = super::start_mock(env)?;
    let client = crate::pages::client(&mock.url)?;
    let py = python::python(env);
    if let Err(e) = &py {
        s.line(format!("python-glanceclient unavailable: {e:#}"));
    }

    let (mut both, mut ours, mut theirs, mut ingest) = (vec![], vec![], vec![], vec![]);
    let mut one_thread = vec![];
    let (mut ours_rss, mut py_rss) = (vec![], vec![]);
    for rep in 0..env.settings.reps {
        both.push(super::both_hashes_speed(256));
        one_thread.push(both_hashes_one_thread(256));

        let id = super::create_image(&client, &format!("bench-up-ours-{rep}")).await?;
        let v = run_json(&mut child::upload_cmd(
            env,
            &mock.url,
            &id,
            &child::Source::File(file.clone()),
        )?)?;
        ours.push(mib_s(num(&v, "bytes") as u64, num(&v, "secs")));
        ours_rss.push(num(&v, "peak_rss_kib"));
        client.images().delete(&id).await?;

        if let Ok(p) = &py {
            let id = super::create_image(&client, &format!("bench-up-py-{rep}")).await?;
            let path = file.to_string_lossy();
            let v = run_json(&mut python::command(
                p,
                python::UPLOAD,
                &[&mock.url, &id, &path],
            ))?;
            theirs.push(mib_s(num(&v, "bytes") as u64, num(&v, "secs")));
            py_rss.push(num(&v, "peak_rss_kib"));
            client.images().delete(&id).await?;
        }

        let id = super::create_image(&client, &format!("bench-up-raw-{rep}")).await?;
        let secs = super::raw_put(&mock.url, &id, mib, false).await?;
        ingest.push(mib_s(mib << 20, secs));
        client.images().delete(&id).await?;
        super::settle();
    }

    // Real Glance at a size it takes in a few seconds, the mock beside it.
    let (mut real, mut mock_small) = (vec![], vec![]);
    let real_note = match env.start_real_glance() {
        Ok(glance) => {
            let rc = glance.client()?;
            for rep in 0..env.settings.reps.min(2) {
                let id = super::create_image(&rc, &format!("bench-real-{rep}")).await?;
                let secs = super::raw_put(&glance.url, &id, real_mib, true).await?;
                real.push(mib_s(real_mib << 20, secs));
                rc.images().delete(&id).await?;
                let id = super::create_image(&client, &format!("bench-small-{rep}")).await?;
                let secs = super::raw_put(&mock.url, &id, real_mib, false).await?;
                mock_small.push(mib_s(real_mib << 20, secs));
                client.images().delete(&id).await?;
            }
            String::new()
        }
        Err(e) => format!("real Glance not measured: {e:#}"),
    };

    remove_data_file(&file);
    let (both, ours, theirs, ingest) = (
        median(&both),
        median(&ours),
        median(&theirs),
        median(&ingest),
    );
    let (real, mock_small) = (median(&real), median(&mock_small));
    let one_thread = median(&one_thread);
    s.table(
        &["what", "MiB/s (median)", "peak RSS MiB", "ratio"],
        &[
            vec![
                "glance-client `upload` (file)".into(),
                f(ours),
                f(median(&ours_rss) / 1024.0),
                format!("{}× python", f(ours / theirs)),
            ],
            vec![
                "python-glanceclient 4.13 `upload` (file)".into(),
                f(theirs),
                f(median(&py_rss) / 1024.0),
                "1".into(),
            ],
            vec![
                format!("mock ingest, plain PUT {mib} MiB"),
                f(ingest),
                "".into(),
                format!("{}× both hashes", f(ingest / both)),
            ],
            vec![
                format!("mock ingest, plain PUT {real_mib} MiB"),
                f(mock_small),
                "".into(),
                format!("{}× real Glance", f(mock_small / real)),
            ],
            vec![
                format!("real Glance 33 ingest, plain PUT {real_mib} MiB"),
                f(real),
                "".into(),
                "1".into(),
            ],
            vec![
                "the mock's MD5 and SHA-512 (OpenSSL) at once, two threads over the same data"
                    .into(),
                f(both),
                "".into(),
                "1".into(),
            ],
            vec![
                "MD5 then SHA-512 (OpenSSL) on one thread, as Glance hashes: its ceiling".into(),
                f(one_thread),
                "".into(),
                format!("{}× both hashes", f(one_thread / both)),
            ],
        ],
    );
    if !real_note.is_empty() {
        s.line(format!("- {real_note}"));
    }
    s.line(format!(
        "- Target mock ingest ≥ 5× real Glance: {}× — {}",
        f(mock_small / real),
        verdict(mock_small >= 5.0 * real)
    ));
    // Whether 5× is within reach at all: the most the mock's ingest can
    // be is both hashes at once, two threads.
    s.line(format!(
        "- 5× real Glance is {} MiB/s, {:.0}% of both hashes at once (the mock's ceiling); \
         real Glance ran at {:.0}% of its own one-thread ceiling",
        f(5.0 * real),
        100.0 * 5.0 * real / both,
        100.0 * real / one_thread
    ));
    s.line(format!(
        "- Target mock ingest ≥ 85% of both hashes at once: {:.0}% — {}",
        100.0 * ingest / both,
        verdict(ingest >= 0.85 * both)
    ));
    s.line(format!(
        "- Ours vs python-glanceclient: {}× (the server's two hashes bound both).",
        f(ours / theirs)
    ));
    Ok(s.finish())
}
